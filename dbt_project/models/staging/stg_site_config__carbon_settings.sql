with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'carbon_settings')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(grid_region as varchar) as grid_region,
        cast(grid_edition as varchar) as grid_edition,
        cast(scope2_basis as varchar) as scope2_basis,
        cast(fuel_region as varchar) as fuel_region,
        cast(fuel_edition as varchar) as fuel_edition,
        cast(diesel_factor_kg_per_l as double precision) as diesel_factor_kg_per_l
    from source
)

select * from renamed
