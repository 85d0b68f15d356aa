{{ config(**partitioned_by_day_config('day')) }}

{#- Each PV array's day (IEC 61724): measured AC energy from its production meter, the
    plane-of-array insolation H (kWh/m2) and the modelled AC energy from int_energy_solar_expected;
    performance ratio PR = E_AC / (kWp x H / 1 kW/m2), performance index PI = E_AC / E_expected;
    zero-production intervals = production intervals with no output while the irradiance reading
    at their start exceeds the array's threshold. -#}
with

arrays as (
    select * from {{ ref('stg_site_config__energy_pv_arrays') }}
),

intervals as (
    select * from {{ ref('int_energy_meter_intervals') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

expected as (
    select * from {{ ref('int_energy_solar_expected') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

production as (
    select
        arrays.site_id,
        arrays.array_id,
        intervals.day,
        sum(intervals.kwh) as energy_kwh,
        {{ count_where(
            'intervals.mean_kw <= 0 and expected.poa_w_m2 > arrays.zero_production_irradiance_w_m2'
        ) }} as zero_production_intervals
    from arrays
    inner join intervals
        on arrays.site_id = intervals.site_id
        and coalesce(arrays.power_meter_id, arrays.energy_meter_id) = intervals.meter_id
    left join expected
        on arrays.site_id = expected.site_id
        and arrays.array_id = expected.array_id
        and intervals.ts_utc = expected.ts_utc
    group by arrays.site_id, arrays.array_id, intervals.day
),

modelled as (
    select
        site_id,
        array_id,
        day,
        sum(poa_w_m2 * hours) / 1000.0 as poa_kwh_per_m2,
        sum(expected_kw * hours) as expected_kwh
    from expected
    group by site_id, array_id, day
),

final as (
    select
        production.site_id,
        production.array_id,
        production.day,
        production.energy_kwh,
        modelled.poa_kwh_per_m2,
        modelled.expected_kwh,
        {{ safe_divide('production.energy_kwh', 'arrays.kwp * modelled.poa_kwh_per_m2') }}
            as performance_ratio,
        {{ safe_divide('production.energy_kwh', 'modelled.expected_kwh') }}
            as performance_index,
        production.zero_production_intervals
    from production
    inner join arrays
        on production.site_id = arrays.site_id
        and production.array_id = arrays.array_id
    left join modelled
        on production.site_id = modelled.site_id
        and production.array_id = modelled.array_id
        and production.day = modelled.day
)

select * from final
