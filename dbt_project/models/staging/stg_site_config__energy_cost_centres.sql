with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_cost_centres')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(cost_centre_id as varchar) as cost_centre_id,
        cast(cost_centre_name as varchar) as cost_centre_name
    from source
)

select * from renamed
