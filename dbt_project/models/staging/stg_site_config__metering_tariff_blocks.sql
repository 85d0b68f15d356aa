{#- Consumption blocks of each tariff version: monthly m3 per customer from from_m3 to to_m3
    (null = open-ended) at rate per m3
    (`<lake_root>/config/metering_tariff_blocks/site=<site_id>.parquet`); typed and empty before any site has been
    exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'metering_tariff_blocks'),
        [
            ['site_id', 'varchar'],
            ['tariff_id', 'varchar'],
            ['effective_from', 'date'],
            ['block_no', 'integer'],
            ['from_m3', 'double precision'],
            ['to_m3', 'double precision'],
            ['rate', 'double precision']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        tariff_id,
        effective_from,
        block_no,
        from_m3,
        to_m3,
        rate
    from source
)

select * from renamed
