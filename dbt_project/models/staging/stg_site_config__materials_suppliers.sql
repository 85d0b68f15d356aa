{#- Suppliers of each site (`<lake_root>/config/materials_suppliers/site=<site_id>.parquet`);
    typed and empty before any site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_suppliers'),
        [
            ['site_id', 'varchar'],
            ['supplier_id', 'varchar'],
            ['name', 'varchar'],
            ['lead_time_days', 'double precision']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        supplier_id,
        name as supplier_name,
        lead_time_days
    from source
)

select * from renamed
