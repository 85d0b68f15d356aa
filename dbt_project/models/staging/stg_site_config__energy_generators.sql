with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_generators')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(generator_id as varchar) as generator_id,
        cast(generator_name as varchar) as generator_name,
        cast(rated_kw as double precision) as rated_kw,
        cast(f0_l_per_h_per_kw_rated as double precision) as f0_l_per_h_per_kw_rated,
        cast(f1_l_per_h_per_kw as double precision) as f1_l_per_h_per_kw,
        cast(f0_defaulted as boolean) as f0_defaulted,
        cast(power_meter_id as varchar) as power_meter_id,
        cast(energy_meter_id as varchar) as energy_meter_id,
        cast(fuel_meter_id as varchar) as fuel_meter_id,
        cast(tank_id as varchar) as tank_id,
        cast(cost_centre_id as varchar) as cost_centre_id,
        cast(low_load_fraction as double precision) as low_load_fraction,
        cast(low_load_alert_hours as double precision) as low_load_alert_hours,
        cast(efficiency_alert_ratio as double precision) as efficiency_alert_ratio
    from source
)

select * from renamed
