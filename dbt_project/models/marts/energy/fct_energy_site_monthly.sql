{#- Each energy site's calendar month: kWh by source, litres of fuel, the total energy cost
    (fuel, the grid bill with its demand charge, solar) and emissions, with month-over-month and
    year-over-year changes (same month a year earlier) in percent for the kWh and the cost. -#}
with

costs as (
    select * from {{ ref('fct_energy_cost_daily') }}
),

generator_days as (
    select * from {{ ref('fct_generator_daily') }}
),

grid_months as (
    select * from {{ ref('fct_grid_monthly') }}
),

sources as (
    select
        site_id,
        {{ month_start('day') }} as month,
        sum(case when source = 'generator' then kwh end) as generator_kwh,
        sum(case when source = 'grid' then kwh end) as grid_kwh,
        sum(case when source = 'solar' then kwh end) as solar_kwh,
        sum(case when source <> 'grid' then cost end) as fuel_and_solar_cost,
        sum(co2e_kg) as co2e_kg
    from costs
    group by site_id, {{ month_start('day') }}
),

fuel as (
    select site_id, {{ month_start('day') }} as month, sum(fuel_l) as fuel_l
    from generator_days
    group by site_id, {{ month_start('day') }}
),

bills as (
    select site_id, month, sum(total_cost) as grid_cost
    from grid_months
    group by site_id, month
),

months as (
    select
        sources.site_id,
        sources.month,
        coalesce(sources.generator_kwh, 0) as generator_kwh,
        coalesce(sources.grid_kwh, 0) as grid_kwh,
        coalesce(sources.solar_kwh, 0) as solar_kwh,
        coalesce(sources.generator_kwh, 0) + coalesce(sources.grid_kwh, 0)
        + coalesce(sources.solar_kwh, 0) as total_kwh,
        fuel.fuel_l,
        coalesce(sources.fuel_and_solar_cost, 0) + coalesce(bills.grid_cost, 0) as total_cost,
        sources.co2e_kg
    from sources
    left join fuel
        on sources.site_id = fuel.site_id
        and sources.month = fuel.month
    left join bills
        on sources.site_id = bills.site_id
        and sources.month = bills.month
),

final as (
    select
        months.*,
        {{ pct_change('months.generator_kwh', 'last_month.generator_kwh') }}
            as generator_kwh_mom_pct,
        {{ pct_change('months.grid_kwh', 'last_month.grid_kwh') }} as grid_kwh_mom_pct,
        {{ pct_change('months.solar_kwh', 'last_month.solar_kwh') }} as solar_kwh_mom_pct,
        {{ pct_change('months.total_kwh', 'last_month.total_kwh') }} as total_kwh_mom_pct,
        {{ pct_change('months.total_cost', 'last_month.total_cost') }} as total_cost_mom_pct,
        {{ pct_change('months.generator_kwh', 'last_year.generator_kwh') }}
            as generator_kwh_yoy_pct,
        {{ pct_change('months.grid_kwh', 'last_year.grid_kwh') }} as grid_kwh_yoy_pct,
        {{ pct_change('months.solar_kwh', 'last_year.solar_kwh') }} as solar_kwh_yoy_pct,
        {{ pct_change('months.total_kwh', 'last_year.total_kwh') }} as total_kwh_yoy_pct,
        {{ pct_change('months.total_cost', 'last_year.total_cost') }} as total_cost_yoy_pct
    from months
    left join months as last_month
        on months.site_id = last_month.site_id
        and last_month.month = cast({{ dbt.dateadd('month', -1, 'months.month') }} as date)
    left join months as last_year
        on months.site_id = last_year.site_id
        and last_year.month = cast({{ dbt.dateadd('month', -12, 'months.month') }} as date)
)

select * from final
