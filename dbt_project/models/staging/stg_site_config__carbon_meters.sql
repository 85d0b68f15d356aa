with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'carbon_meters')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(meter_id as varchar) as meter_id,
        cast(activity as varchar) as activity,
        cast(scope as integer) as scope
    from source
)

select * from renamed
