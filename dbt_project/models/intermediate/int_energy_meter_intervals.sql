{{ config(**partitioned_by_day_config('day')) }}

{#- kWh and mean kW of every energy register and power meter with an energy role, per reading
    interval: the grain the tariff periods, demand intervals, fuel curve and PV model work at.
    A register's interval runs from one reading to the next and holds their delta
    (energy_register_deltas: rollover and reset rules), so a missed reading lengthens the
    interval and loses no energy; a power meter's reading stamped t is the mean kW over
    [t, t + interval) (interval-beginning, as the flow-rate meters), taken from the VEE-validated
    series so that an invalid or missing reading counts with its estimate. Each interval belongs
    to the site-local day and local time of its start. -#}
with

registers as (
    select site_id, meter_id, measurand, ts_utc, reading_day, value_canonical
    from {{ ref('int_readings_deduplicated') }}
    where measurand = 'energy'
        and value_canonical is not null
        and {{ in_day_window('reading_day', after=1) }}
        and {{ in_site_window('site_id') }}
),

power as (
    select site_id, meter_id, ts_utc, reading_day, validated_value, is_estimated
    from {{ ref('int_readings_validated') }}
    where measurand = 'power'
        and validated_value is not null
        and {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
),

-- the meters the energy section gives a role: generators' and arrays' output, the grid's
-- import and export, loads (a water site's pump registers are the carbon models' business)
roles as (
    select site_id, power_meter_id as meter_id from {{ ref('stg_site_config__energy_generators') }}
    union
    select site_id, energy_meter_id from {{ ref('stg_site_config__energy_generators') }}
    union
    select site_id, power_meter_id from {{ ref('stg_site_config__energy_pv_arrays') }}
    union
    select site_id, energy_meter_id from {{ ref('stg_site_config__energy_pv_arrays') }}
    union
    select site_id, import_meter_id from {{ ref('stg_site_config__energy_grid') }}
    union
    select site_id, export_meter_id from {{ ref('stg_site_config__energy_grid') }}
    union
    select site_id, meter_id from {{ ref('stg_site_config__energy_loads') }}
),

meters as (
    select all_meters.*
    from {{ ref('stg_site_config__meters') }} as all_meters
    inner join roles
        on all_meters.site_id = roles.site_id
        and all_meters.meter_id = roles.meter_id
    where all_meters.measurand in ('energy', 'power')
),

sites as (
    select site_id, timezone from {{ ref('stg_site_config__sites') }}
),

register_deltas as (
    {{ energy_register_deltas('registers', 'meters') }}
),

register_intervals as (
    select
        site_id,
        meter_id,
        'energy' as measurand,
        day,
        ts_utc,
        next_ts_utc as end_utc,
        ({{ epoch_seconds('next_ts_utc') }} - {{ epoch_seconds('ts_utc') }}) / 3600.0 as hours,
        delta_kwh as kwh,
        delta_kind,
        false as is_estimated
    from register_deltas
),

power_intervals as (
    select
        power.site_id,
        power.meter_id,
        'power' as measurand,
        power.reading_day as day,
        power.ts_utc,
        {{ dbt.dateadd('second', 'meters.interval_seconds', 'power.ts_utc') }} as end_utc,
        meters.interval_hours as hours,
        power.validated_value * meters.interval_hours as kwh,
        cast(null as varchar) as delta_kind,
        power.is_estimated
    from power
    inner join meters
        on power.site_id = meters.site_id
        and power.meter_id = meters.meter_id
),

intervals as (
    select * from register_intervals
    union all
    select * from power_intervals
),

final as (
    select
        intervals.site_id,
        intervals.meter_id,
        intervals.measurand,
        intervals.day,
        intervals.ts_utc,
        intervals.end_utc,
        {{ utc_to_local('intervals.ts_utc', 'sites.timezone') }} as local_ts,
        intervals.hours,
        intervals.kwh,
        {{ safe_divide('intervals.kwh', 'intervals.hours') }} as mean_kw,
        intervals.delta_kind,
        intervals.is_estimated
    from intervals
    inner join sites
        on intervals.site_id = sites.site_id
    where {{ in_day_window('intervals.day') }}
        and intervals.hours > 0
)

select * from final
