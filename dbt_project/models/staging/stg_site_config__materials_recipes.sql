{#- Recipe versions of each site
    (`<lake_root>/config/materials_recipes/site=<site_id>.parquet`); typed and empty before any
    site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_recipes'),
        [
            ['site_id', 'varchar'],
            ['recipe_id', 'varchar'],
            ['version', 'integer'],
            ['product_id', 'varchar'],
            ['valid_from', 'date'],
            ['yield_qty', 'double precision'],
            ['yield_unit', 'varchar']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        recipe_id,
        version,
        product_id,
        valid_from,
        yield_qty,
        yield_unit
    from source
)

select * from renamed
