with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'air_quality_meters')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(meter_id as varchar) as meter_id,
        cast(role as varchar) as role,
        cast(monitor_id as varchar) as monitor_id,
        cast(monitor_name as varchar) as monitor_name
    from source
)

select * from renamed
