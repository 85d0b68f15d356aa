{{ config(**partitioned_by_day_config('day')) }}

{#- Each grid connection's day: import and export kWh, the import's energy cost by tariff
    period, the daily supply charge, and peak demand = the highest demand-interval average kW
    of the day (interval kWh / the demand interval's hours; an interval longer than the demand
    interval counts at its own mean kW). -#}
with

grids as (
    select * from {{ ref('stg_site_config__energy_grid') }}
),

imports as (
    select * from {{ ref('int_energy_grid_intervals') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

meter_intervals as (
    select * from {{ ref('int_energy_meter_intervals') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

demand as (
    select
        site_id,
        grid_id,
        day,
        demand_interval_number,
        sum(kwh) / greatest(max(demand_interval_minutes) / 60.0, sum(hours)) as demand_kw
    from imports
    group by site_id, grid_id, day, demand_interval_number
),

import_days as (
    select
        site_id,
        grid_id,
        day,
        sum(kwh) as import_kwh,
        sum(energy_cost) as energy_cost
    from imports
    group by site_id, grid_id, day
),

peaks as (
    select site_id, grid_id, day, max(demand_kw) as peak_kw
    from demand
    group by site_id, grid_id, day
),

exports as (
    select
        grids.site_id,
        grids.grid_id,
        meter_intervals.day,
        sum(meter_intervals.kwh) as export_kwh
    from grids
    inner join meter_intervals
        on grids.site_id = meter_intervals.site_id
        and grids.export_meter_id = meter_intervals.meter_id
    group by grids.site_id, grids.grid_id, meter_intervals.day
),

final as (
    select
        import_days.site_id,
        import_days.grid_id,
        import_days.day,
        import_days.import_kwh,
        coalesce(exports.export_kwh, 0) as export_kwh,
        import_days.energy_cost,
        grids.daily_charge,
        peaks.peak_kw
    from import_days
    inner join grids
        on import_days.site_id = grids.site_id
        and import_days.grid_id = grids.grid_id
    left join peaks
        on import_days.site_id = peaks.site_id
        and import_days.grid_id = peaks.grid_id
        and import_days.day = peaks.day
    left join exports
        on import_days.site_id = exports.site_id
        and import_days.grid_id = exports.grid_id
        and import_days.day = exports.day
)

select * from final
