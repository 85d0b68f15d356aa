with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_tanks')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(tank_id as varchar) as tank_id,
        cast(tank_name as varchar) as tank_name,
        cast(capacity_l as double precision) as capacity_l,
        cast(level_meter_id as varchar) as level_meter_id,
        cast(delivery_meter_id as varchar) as delivery_meter_id
    from source
)

select * from renamed
