{#- Specification versions of each site
    (`<lake_root>/config/materials_specifications/site=<site_id>.parquet`); typed and empty
    before any site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_specifications'),
        [
            ['site_id', 'varchar'],
            ['spec_id', 'varchar'],
            ['version', 'integer'],
            ['product_id', 'varchar']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        spec_id,
        version,
        product_id
    from source
)

select * from renamed
