{{ config(**partitioned_by_day_config('day')) }}

{#- Every import interval of each grid connection with its tariff: the time-of-use period whose
    day of week and [start, end) local minutes hold the interval's local start (the tariff's
    energy rate, period `off_peak`, outside every period), its energy cost, and the demand
    interval (15 or 30 minutes, aligned to the clock) it falls in. An interval that straddles a
    period boundary is charged at the period of its start. -#}
with

grids as (
    select * from {{ ref('stg_site_config__energy_grid') }}
),

periods as (
    select * from {{ ref('stg_site_config__energy_tariff_periods') }}
),

intervals as (
    select * from {{ ref('int_energy_meter_intervals') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

imports as (
    select
        grids.site_id,
        grids.grid_id,
        intervals.day,
        intervals.ts_utc,
        intervals.local_ts,
        {{ iso_dow('intervals.local_ts') }} as iso_dow,
        {{ minute_of_day('intervals.local_ts') }} as start_minute,
        intervals.hours,
        intervals.kwh,
        grids.energy_rate_per_kwh,
        grids.demand_interval_minutes
    from grids
    inner join intervals
        on grids.site_id = intervals.site_id
        and grids.import_meter_id = intervals.meter_id
),

priced as (
    select
        imports.site_id,
        imports.grid_id,
        imports.day,
        imports.ts_utc,
        imports.local_ts,
        imports.hours,
        imports.kwh,
        coalesce(periods.period_name, 'off_peak') as period_name,
        coalesce(periods.rate_per_kwh, imports.energy_rate_per_kwh) as rate_per_kwh,
        imports.demand_interval_minutes,
        cast(
            floor({{ epoch_seconds('imports.ts_utc') }} / (60 * imports.demand_interval_minutes))
            as bigint
        ) as demand_interval_number
    from imports
    left join periods
        on imports.site_id = periods.site_id
        and imports.grid_id = periods.grid_id
        and imports.iso_dow = periods.iso_dow
        and imports.start_minute >= periods.start_minute
        and imports.start_minute < periods.end_minute
),

final as (
    select
        *,
        kwh * rate_per_kwh as energy_cost
    from priced
)

select * from final
