with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_grid')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(grid_id as varchar) as grid_id,
        cast(grid_name as varchar) as grid_name,
        cast(import_meter_id as varchar) as import_meter_id,
        cast(export_meter_id as varchar) as export_meter_id,
        cast(energy_rate_per_kwh as double precision) as energy_rate_per_kwh,
        cast(demand_charge_per_kw_month as double precision) as demand_charge_per_kw_month,
        cast(demand_interval_minutes as integer) as demand_interval_minutes,
        cast(daily_charge as double precision) as daily_charge
    from source
)

select * from renamed
