with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_pv_arrays')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(array_id as varchar) as array_id,
        cast(array_name as varchar) as array_name,
        cast(kwp as double precision) as kwp,
        cast(tilt_deg as double precision) as tilt_deg,
        cast(azimuth_deg as double precision) as azimuth_deg,
        cast(inverter_kw as double precision) as inverter_kw,
        cast(gamma_pdc_per_c as double precision) as gamma_pdc_per_c,
        cast(losses_pct as double precision) as losses_pct,
        cast(inverter_efficiency as double precision) as inverter_efficiency,
        cast(power_meter_id as varchar) as power_meter_id,
        cast(energy_meter_id as varchar) as energy_meter_id,
        cast(irradiance_meter_id as varchar) as irradiance_meter_id,
        cast(temperature_meter_id as varchar) as temperature_meter_id,
        cast(wind_meter_id as varchar) as wind_meter_id,
        cast(pi_alert_threshold as double precision) as pi_alert_threshold,
        cast(pi_alert_days as integer) as pi_alert_days,
        cast(zero_production_irradiance_w_m2 as double precision) as zero_production_irradiance_w_m2
    from source
)

select * from renamed
