{#- Inputs of each recipe version
    (`<lake_root>/config/materials_recipe_inputs/site=<site_id>.parquet`); typed and empty
    before any site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_recipe_inputs'),
        [
            ['site_id', 'varchar'],
            ['recipe_id', 'varchar'],
            ['version', 'integer'],
            ['material_id', 'varchar'],
            ['qty_base', 'double precision'],
            ['unit_given', 'varchar'],
            ['qty_given', 'double precision']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        recipe_id,
        version,
        material_id,
        qty_base,
        unit_given,
        qty_given
    from source
)

select * from renamed
