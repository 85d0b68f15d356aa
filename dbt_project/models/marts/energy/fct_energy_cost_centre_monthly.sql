{#- Each cost centre's energy per calendar month and its share of the site's supply cost: the
    month's fuel cost, grid bill (energy, daily and demand charges) and solar cost, allocated by
    the cost centre's share of the kWh its site's metered loads used. -#}
with

load_days as (
    select * from {{ ref('fct_load_daily') }}
),

costs as (
    select * from {{ ref('fct_energy_cost_daily') }}
),

grid_months as (
    select * from {{ ref('fct_grid_monthly') }}
),

-- fuel and solar per day; the grid per month with its demand charge
supply as (
    select site_id, {{ month_start('day') }} as month, sum(cost) as cost
    from costs
    where source in ('generator', 'solar')
    group by site_id, {{ month_start('day') }}
    union all
    select site_id, month, sum(total_cost) as cost
    from grid_months
    group by site_id, month
),

supply_months as (
    select site_id, month, sum(cost) as supply_cost
    from supply
    group by site_id, month
),

centres as (
    select
        site_id,
        {{ month_start('day') }} as month,
        coalesce(cost_centre_id, 'unassigned') as cost_centre_id,
        sum(energy_kwh) as kwh
    from load_days
    group by site_id, {{ month_start('day') }}, coalesce(cost_centre_id, 'unassigned')
),

totals as (
    select
        centres.*,
        sum(centres.kwh) over (partition by centres.site_id, centres.month) as site_load_kwh
    from centres
),

shared as (
    select
        totals.*,
        {{ safe_divide('totals.kwh', 'totals.site_load_kwh') }} as kwh_share
    from totals
),

final as (
    select
        shared.site_id,
        shared.month,
        shared.cost_centre_id,
        shared.kwh,
        shared.kwh_share * supply_months.supply_cost as cost,
        {{ safe_divide('shared.kwh_share * supply_months.supply_cost', 'shared.kwh') }}
            as cost_per_kwh
    from shared
    left join supply_months
        on shared.site_id = supply_months.site_id
        and shared.month = supply_months.month
)

select * from final
