with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_loads')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(load_id as varchar) as load_id,
        cast(load_name as varchar) as load_name,
        cast(meter_id as varchar) as meter_id,
        cast(cost_centre_id as varchar) as cost_centre_id,
        cast(anomaly_kwh_per_day as double precision) as anomaly_kwh_per_day
    from source
)

select * from renamed
