{#- Dated exchange rates into the site currency
    (`<lake_root>/config/materials_exchange_rates/site=<site_id>.parquet`); typed and empty
    before any site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_exchange_rates'),
        [
            ['site_id', 'varchar'],
            ['currency', 'varchar'],
            ['valid_from', 'date'],
            ['rate', 'double precision']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        currency,
        valid_from,
        rate
    from source
)

select * from renamed
