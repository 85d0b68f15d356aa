{{ config(**partitioned_by_day_config('day')) }}

{#- Each generator's day from its output meter (kW meter, else kWh register) per reading
    interval: energy, running hours (intervals with output above 0), load fraction (mean kW /
    rated kW), hours and the longest unbroken run below its low-load fraction (counted within the
    site-local day: a run across midnight counts on both days separately), the HOMER fuel curve's
    litres over the running intervals, and the litres its own fuel meter measured. -#}
with

generators as (
    select * from {{ ref('stg_site_config__energy_generators') }}
),

intervals as (
    select * from {{ ref('int_energy_meter_intervals') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

fuel_meters as (
    select site_id, meter_id, day, amount
    from {{ ref('int_energy_fuel_daily') }}
    where measurand = 'fuel'
        and {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

generator_intervals as (
    select
        generators.site_id,
        generators.generator_id,
        intervals.day,
        intervals.ts_utc,
        intervals.hours,
        intervals.kwh,
        intervals.mean_kw,
        intervals.mean_kw > 0 as is_running,
        intervals.mean_kw > 0
        and intervals.mean_kw < generators.low_load_fraction * generators.rated_kw
            as is_low_load,
        {{ fuel_curve_l(
            'generators.f0_l_per_h_per_kw_rated', 'generators.f1_l_per_h_per_kw',
            'generators.rated_kw', 'intervals.mean_kw', 'intervals.hours'
        ) }} as expected_fuel_l
    from generators
    inner join intervals
        on generators.site_id = intervals.site_id
        and coalesce(generators.power_meter_id, generators.energy_meter_id) = intervals.meter_id
),

-- islands of consecutive low-load intervals within a day
runs as (
    select
        *,
        row_number() over generator_day
        - row_number() over (
            partition by site_id, generator_id, day, is_low_load order by ts_utc
        ) as run_id
    from generator_intervals
    window generator_day as (partition by site_id, generator_id, day order by ts_utc)
),

low_load_runs as (
    select site_id, generator_id, day, sum(hours) as run_hours
    from runs
    where is_low_load
    group by site_id, generator_id, day, run_id
),

longest_runs as (
    select site_id, generator_id, day, max(run_hours) as max_low_load_run_hours
    from low_load_runs
    group by site_id, generator_id, day
),

daily as (
    select
        site_id,
        generator_id,
        day,
        count(*) as n_intervals,
        sum(kwh) as energy_kwh,
        coalesce(sum(case when is_running then hours end), 0) as running_hours,
        coalesce(sum(case when is_low_load then hours end), 0) as low_load_hours,
        sum(expected_fuel_l) as expected_fuel_l
    from generator_intervals
    group by site_id, generator_id, day
),

final as (
    select
        daily.site_id,
        daily.generator_id,
        daily.day,
        cast(daily.n_intervals as bigint) as n_intervals,
        daily.energy_kwh,
        daily.running_hours,
        {{ safe_divide('daily.energy_kwh', 'generators.rated_kw * daily.running_hours') }}
            as mean_load_fraction,
        daily.low_load_hours,
        coalesce(longest_runs.max_low_load_run_hours, 0) as max_low_load_run_hours,
        daily.expected_fuel_l,
        fuel_meters.amount as metered_fuel_l
    from daily
    inner join generators
        on daily.site_id = generators.site_id
        and daily.generator_id = generators.generator_id
    left join longest_runs
        on daily.site_id = longest_runs.site_id
        and daily.generator_id = longest_runs.generator_id
        and daily.day = longest_runs.day
    left join fuel_meters
        on generators.site_id = fuel_meters.site_id
        and generators.fuel_meter_id = fuel_meters.meter_id
        and daily.day = fuel_meters.day
)

select * from final
