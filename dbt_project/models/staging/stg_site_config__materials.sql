{#- Materials of each site with their base unit, lead time and powder data
    (`<lake_root>/config/materials/site=<site_id>.parquet`); typed and empty before any site has
    been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials'),
        [
            ['site_id', 'varchar'],
            ['material_id', 'varchar'],
            ['name', 'varchar'],
            ['unit', 'varchar'],
            ['dimension', 'varchar'],
            ['category', 'varchar'],
            ['density_g_per_ml', 'double precision'],
            ['shelf_life_days', 'integer'],
            ['lead_time_days', 'double precision'],
            ['lead_time_sd_days', 'double precision'],
            ['service_level', 'double precision'],
            ['reorder_point', 'double precision'],
            ['specific_gravity', 'double precision'],
            ['transfer_efficiency', 'double precision'],
            ['reclaim_fraction', 'double precision']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        material_id,
        name as material_name,
        unit,
        dimension,
        category,
        density_g_per_ml,
        shelf_life_days,
        lead_time_days,
        lead_time_sd_days,
        service_level,
        reorder_point,
        specific_gravity,
        transfer_efficiency,
        reclaim_fraction
    from source
)

select * from renamed
