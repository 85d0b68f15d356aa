{{ config(**partitioned_by_day_config('day')) }}

{#- Expected AC power of each PV array at every plane-of-array irradiance reading (the
    VEE-validated series of its irradiance meter): pvlib's chain written in SQL
    (macros/energy.sql: temperature.faiman -> pvsystem.pvwatts_dc -> losses ->
    inverter.pvwatts; tests/dbt/test_energy_pvlib.py holds it to pvlib within 1e-9). The air
    temperature and wind speed are the readings of the same instant; without a temperature
    meter (or reading) the model takes 25 degC, without wind 1 m/s (pvlib's default). Negative
    irradiance (a sensor's night offset) counts as 0. A reading stamped t holds over
    [t, t + the irradiance meter's interval). -#}
with

arrays as (
    select * from {{ ref('stg_site_config__energy_pv_arrays') }}
),

weather as (
    select site_id, meter_id, ts_utc, reading_day, validated_value
    from {{ ref('int_readings_validated') }}
    where measurand in ('irradiance', 'temperature', 'wind_speed')
        and validated_value is not null
        and {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
),

meters as (
    select site_id, meter_id, interval_hours from {{ ref('stg_site_config__meters') }}
),

inputs as (
    select
        arrays.site_id,
        arrays.array_id,
        irradiance.reading_day as day,
        irradiance.ts_utc,
        meters.interval_hours as hours,
        greatest(irradiance.validated_value, 0) as poa_w_m2,
        coalesce(temperature.validated_value, 25.0) as temp_air_c,
        coalesce(wind.validated_value, 1.0) as wind_m_s,
        arrays.kwp,
        arrays.gamma_pdc_per_c,
        arrays.losses_pct,
        arrays.inverter_kw,
        arrays.inverter_efficiency
    from arrays
    inner join weather as irradiance
        on arrays.site_id = irradiance.site_id
        and arrays.irradiance_meter_id = irradiance.meter_id
    inner join meters
        on irradiance.site_id = meters.site_id
        and irradiance.meter_id = meters.meter_id
    left join weather as temperature
        on arrays.site_id = temperature.site_id
        and arrays.temperature_meter_id = temperature.meter_id
        and irradiance.ts_utc = temperature.ts_utc
    left join weather as wind
        on arrays.site_id = wind.site_id
        and arrays.wind_meter_id = wind.meter_id
        and irradiance.ts_utc = wind.ts_utc
),

final as (
    select
        site_id,
        array_id,
        day,
        ts_utc,
        hours,
        poa_w_m2,
        temp_air_c,
        wind_m_s,
        {{ faiman_cell_temp('poa_w_m2', 'temp_air_c', 'wind_m_s') }} as cell_temp_c,
        {{ pv_expected_ac_kw(
            'poa_w_m2', 'temp_air_c', 'wind_m_s', 'kwp', 'gamma_pdc_per_c', 'losses_pct',
            'inverter_kw', 'inverter_efficiency'
        ) }} as expected_kw
    from inputs
)

select * from final
