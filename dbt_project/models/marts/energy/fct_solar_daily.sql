{{ config(**partitioned_by_day_config('day')) }}

{#- Each PV array's day: measured and expected AC energy, insolation, performance ratio and
    index (IEC 61724), zero-production intervals, the run of consecutive days up to this one
    with a performance index below the array's threshold (a day without an index ends a run;
    capped at `energy_history_days`), and lifecycle emissions. A window run reads that many
    days before its window and rewrites that many after it, whose runs include the window's
    days (a late file changes them). -#}
{%- set history_days = var('energy_history_days') | int %}
with

arrays as (
    select * from {{ ref('stg_site_config__energy_pv_arrays') }}
),

solar_days as (
    select * from {{ ref('int_energy_solar_daily') }}
    where {{ in_day_window('day', before=history_days - 1, after=history_days - 1) }}
        and {{ in_site_window('site_id') }}
),

factors as (
    select * from {{ ref('int_energy_emission_factors') }}
),

flagged as (
    select
        solar_days.*,
        coalesce(solar_days.performance_index < arrays.pi_alert_threshold, false) as is_below,
        {{ day_number('solar_days.day') }} as day_number
    from solar_days
    inner join arrays
        on solar_days.site_id = arrays.site_id
        and solar_days.array_id = arrays.array_id
),

-- runs of consecutive calendar days below the threshold: within a run, day number minus
-- row number is constant (a missing day or a day at or above the threshold ends a run)
below_runs as (
    select
        site_id,
        array_id,
        day,
        day_number - row_number() over (
            partition by site_id, array_id order by day_number
        ) as run_id
    from flagged
    where is_below
),

run_lengths as (
    select
        site_id,
        array_id,
        day,
        row_number() over (partition by site_id, array_id, run_id order by day) as days_below
    from below_runs
),

runs as (
    select
        flagged.*,
        -- capped: a window run sees at most energy_history_days of a run, as a full build does
        least(coalesce(run_lengths.days_below, 0), {{ history_days }}) as days_below_pi
    from flagged
    left join run_lengths
        on flagged.site_id = run_lengths.site_id
        and flagged.array_id = run_lengths.array_id
        and flagged.day = run_lengths.day
),

final as (
    select
        runs.site_id,
        runs.array_id,
        runs.day,
        runs.energy_kwh,
        runs.poa_kwh_per_m2,
        runs.expected_kwh,
        runs.performance_ratio,
        runs.performance_index,
        cast(runs.zero_production_intervals as integer) as zero_production_intervals,
        arrays.pi_alert_threshold,
        arrays.pi_alert_days,
        cast(runs.days_below_pi as integer) as days_below_pi,
        runs.energy_kwh * factors.solar_kg_per_kwh as co2e_kg
    from runs
    inner join arrays
        on runs.site_id = arrays.site_id
        and runs.array_id = arrays.array_id
    left join factors
        on runs.site_id = factors.site_id
    where {{ in_day_window('runs.day', after=history_days - 1) }}
)

select * from final
