{#- Unit cost of every material per site-local month with receipts: the quantity-weighted
    average, the lowest and highest receipt, and the change of the average against the
    material's previous month with receipts. -#}
with

prices as (
    select * from {{ ref('fct_material_prices') }}
),

months as (
    select
        site_id,
        material_id,
        month,
        count(*) as receipts,
        sum(qty) as qty,
        sum(cost) as cost,
        {{ safe_divide('sum(cost)', 'sum(qty)') }} as avg_unit_cost,
        min(unit_cost) as min_unit_cost,
        max(unit_cost) as max_unit_cost
    from prices
    group by site_id, material_id, month
),

final as (
    select
        site_id,
        material_id,
        month,
        receipts,
        qty,
        cost,
        avg_unit_cost,
        min_unit_cost,
        max_unit_cost,
        lag(month) over (partition by site_id, material_id order by month) as previous_month,
        lag(avg_unit_cost) over (partition by site_id, material_id order by month)
            as previous_avg_unit_cost,
        {{ pct_change(
            'avg_unit_cost',
            'lag(avg_unit_cost) over (partition by site_id, material_id order by month)'
        ) }} as avg_unit_cost_change_pct
    from months
)

select * from final
