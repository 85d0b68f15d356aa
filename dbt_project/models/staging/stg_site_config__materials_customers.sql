{#- Customers a site names (`<lake_root>/config/materials_customers/site=<site_id>.parquet`);
    typed and empty before any site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_customers'),
        [
            ['site_id', 'varchar'],
            ['customer_id', 'varchar'],
            ['name', 'varchar'],
            ['segment', 'varchar']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        customer_id,
        name as customer_name,
        segment
    from source
)

select * from renamed
