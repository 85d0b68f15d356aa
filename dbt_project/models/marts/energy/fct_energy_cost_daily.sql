{{ config(**partitioned_by_day_config('day')) }}

{#- Energy supplied to each site per day by source, with its cost, cost per kWh and emissions:
    generators (fuel cost; diesel emissions), grid (import energy cost by tariff period plus the
    daily charge; the monthly demand charge sits in fct_grid_monthly and the monthly marts;
    location-based grid emissions) and solar (the site's levelised solar cost per kWh; lifecycle
    emissions). -#}
with

generator_days as (
    select * from {{ ref('fct_generator_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

grid_days as (
    select * from {{ ref('fct_grid_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

solar_days as (
    select * from {{ ref('fct_solar_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

settings as (
    select * from {{ ref('stg_site_config__energy_settings') }}
),

factors as (
    select * from {{ ref('int_energy_emission_factors') }}
),

generators as (
    select
        site_id,
        day,
        'generator' as source,
        sum(energy_kwh) as kwh,
        sum(fuel_cost) as cost,
        sum(co2e_kg) as co2e_kg
    from generator_days
    group by site_id, day
),

grid as (
    select
        grid_days.site_id,
        grid_days.day,
        'grid' as source,
        sum(grid_days.import_kwh) as kwh,
        sum(grid_days.energy_cost + coalesce(grid_days.daily_charge, 0)) as cost,
        sum(grid_days.import_kwh) * max(factors.grid_kg_per_kwh) as co2e_kg
    from grid_days
    left join factors
        on grid_days.site_id = factors.site_id
    group by grid_days.site_id, grid_days.day
),

solar as (
    select
        solar_days.site_id,
        solar_days.day,
        'solar' as source,
        sum(solar_days.energy_kwh) as kwh,
        sum(solar_days.energy_kwh) * coalesce(max(settings.solar_cost_per_kwh), 0) as cost,
        sum(solar_days.co2e_kg) as co2e_kg
    from solar_days
    left join settings
        on solar_days.site_id = settings.site_id
    group by solar_days.site_id, solar_days.day
),

sources as (
    select * from generators
    union all
    select * from grid
    union all
    select * from solar
),

final as (
    select
        site_id,
        day,
        source,
        kwh,
        cost,
        {{ safe_divide('cost', 'kwh') }} as cost_per_kwh,
        co2e_kg
    from sources
)

select * from final
