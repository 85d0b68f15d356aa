{{ config(**partitioned_by_day_config('day')) }}

{#- Each energy site's day: kWh from generators, grid import and solar, the kWh its metered loads
    used, the day's energy cost (fct_energy_cost_daily: fuel, grid energy and daily charge,
    solar) with the site's alert threshold, and the emissions of the three sources. -#}
with

costs as (
    select * from {{ ref('fct_energy_cost_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

load_days as (
    select * from {{ ref('fct_load_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

settings as (
    select * from {{ ref('stg_site_config__energy_settings') }}
),

loads as (
    select site_id, day, sum(energy_kwh) as load_kwh
    from load_days
    group by site_id, day
),

supply as (
    select
        site_id,
        day,
        sum(case when source = 'generator' then kwh end) as generator_kwh,
        sum(case when source = 'grid' then kwh end) as grid_kwh,
        sum(case when source = 'solar' then kwh end) as solar_kwh,
        sum(cost) as total_cost,
        sum(co2e_kg) as co2e_kg
    from costs
    group by site_id, day
),

site_days as (
    select site_id, day from supply
    union
    select site_id, day from loads
),

final as (
    select
        site_days.site_id,
        site_days.day,
        coalesce(supply.generator_kwh, 0) as generator_kwh,
        coalesce(supply.grid_kwh, 0) as grid_kwh,
        coalesce(supply.solar_kwh, 0) as solar_kwh,
        coalesce(loads.load_kwh, 0) as load_kwh,
        coalesce(supply.total_cost, 0) as total_cost,
        settings.daily_cost_alert,
        supply.co2e_kg
    from site_days
    left join supply
        on site_days.site_id = supply.site_id
        and site_days.day = supply.day
    left join loads
        on site_days.site_id = loads.site_id
        and site_days.day = loads.day
    left join settings
        on site_days.site_id = settings.site_id
)

select * from final
