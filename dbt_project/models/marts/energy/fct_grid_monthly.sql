{#- Each grid connection's bill per calendar month: energy cost by tariff period, the daily
    supply charge for every day with readings, and the demand charge on the billed demand =
    the highest demand-interval average kW of the month. -#}
with

days as (
    select * from {{ ref('fct_grid_daily') }}
),

grids as (
    select * from {{ ref('stg_site_config__energy_grid') }}
),

months as (
    select
        site_id,
        grid_id,
        {{ month_start('day') }} as month,
        sum(import_kwh) as import_kwh,
        sum(energy_cost) as energy_cost,
        sum(daily_charge) as daily_charges,
        max(peak_kw) as billed_demand_kw
    from days
    group by site_id, grid_id, {{ month_start('day') }}
),

charged as (
    select
        months.*,
        months.billed_demand_kw * grids.demand_charge_per_kw_month as demand_charge
    from months
    inner join grids
        on months.site_id = grids.site_id
        and months.grid_id = grids.grid_id
),

final as (
    select
        site_id,
        grid_id,
        month,
        import_kwh,
        energy_cost,
        daily_charges,
        billed_demand_kw,
        demand_charge,
        energy_cost + daily_charges + coalesce(demand_charge, 0) as total_cost,
        {{ safe_divide(
            'energy_cost + daily_charges + coalesce(demand_charge, 0)', 'import_kwh'
        ) }} as cost_per_kwh
    from charged
)

select * from final
