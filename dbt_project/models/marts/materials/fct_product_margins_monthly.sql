{#- Sales, cost of goods sold and margin of every product per site-local month. Every sale
    costs what int_material_sale_costs says: the lot's own unit cost when the sale names a lot
    (fct_lot_costs: a split lot such as 101A its parents' share plus its own batch's), else the
    quantity-weighted unit cost of the product's batches finished by then. The change is against
    the previous calendar month (null when the product sold nothing then). -#}
with

sale_costs as (
    select * from {{ ref('int_material_sale_costs') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

costed as (
    select
        sale_costs.site_id,
        sale_costs.sale_id,
        sale_costs.product_id,
        {{ month_start(utc_to_local('sale_costs.sold_at', "coalesce(sites.timezone, 'UTC')")) }}
            as month,
        sale_costs.qty,
        sale_costs.revenue,
        sale_costs.cost_basis,
        sale_costs.cogs
    from sale_costs
    left join sites
        on sale_costs.site_id = sites.site_id
),

months as (
    select
        site_id,
        product_id,
        month,
        count(*) as sales,
        sum(qty) as qty_sold,
        sum(revenue) as revenue,
        {{ sum_all_known('cogs') }} as cogs,
        {{ count_where('cogs is null') }} as sales_without_cost,
        {{ count_where("cost_basis = 'product_batches'") }} as sales_at_product_cost
    from costed
    group by site_id, product_id, month
),

margins as (
    select
        months.*,
        months.revenue - months.cogs as margin,
        {{ safe_divide('100 * (months.revenue - months.cogs)', 'months.revenue') }}
            as margin_pct
    from months
),

final as (
    select
        margins.site_id,
        margins.product_id,
        margins.month,
        margins.sales,
        margins.qty_sold,
        margins.revenue,
        margins.cogs,
        margins.sales_without_cost,
        margins.sales_at_product_cost,
        margins.margin,
        margins.margin_pct,
        previous.margin_pct as margin_pct_previous,
        margins.margin_pct - previous.margin_pct as margin_change_pct_points,
        sites.margin_floor_pct,
        sites.margin_fall_pct_points
    from margins
    left join margins as previous
        on margins.site_id = previous.site_id
        and margins.product_id = previous.product_id
        and previous.month = cast({{ dbt.dateadd('month', -1, 'margins.month') }} as date)
    left join sites
        on margins.site_id = sites.site_id
)

select * from final
