{#- Districts of each site, one row per bulk meter (a water meter of the site's `meters:`)
    (`<lake_root>/config/metering_districts/site=<site_id>.parquet`); typed and empty before any site has been
    exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'metering_districts'),
        [
            ['site_id', 'varchar'],
            ['district_id', 'varchar'],
            ['name', 'varchar'],
            ['bulk_meter_id', 'varchar']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        district_id,
        name,
        bulk_meter_id
    from source
)

select * from renamed
