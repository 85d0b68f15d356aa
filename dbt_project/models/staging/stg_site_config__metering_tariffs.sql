{#- Tariff versions of each site, with the day before the next version as effective_to
    (`<lake_root>/config/metering_tariffs/site=<site_id>.parquet`); typed and empty before any site has been
    exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'metering_tariffs'),
        [
            ['site_id', 'varchar'],
            ['tariff_id', 'varchar'],
            ['name', 'varchar'],
            ['effective_from', 'date'],
            ['effective_to', 'date'],
            ['fixed_charge_per_month', 'double precision']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        tariff_id,
        name,
        effective_from,
        effective_to,
        fixed_charge_per_month
    from source
)

select * from renamed
