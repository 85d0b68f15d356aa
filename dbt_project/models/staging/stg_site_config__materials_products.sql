{#- Products of each site with list price and specification
    (`<lake_root>/config/materials_products/site=<site_id>.parquet`); typed and empty before any
    site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_products'),
        [
            ['site_id', 'varchar'],
            ['product_id', 'varchar'],
            ['name', 'varchar'],
            ['unit', 'varchar'],
            ['price', 'double precision'],
            ['shelf_life_days', 'integer'],
            ['spec_id', 'varchar']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        product_id,
        name as product_name,
        unit,
        price,
        shelf_life_days,
        spec_id
    from source
)

select * from renamed
