{#- Sales, cost of goods sold and margin of every product per site-local month. A sale of a
    batch's output lot costs the batch's unit cost (fct_batches); a sale without a lot, or of a
    lot that is no batch output (a split), costs the quantity-weighted unit cost of the
    product's batches finished by then. The change is against the previous calendar month (null
    when the product sold nothing then). -#}
with

sales as (
    select * from {{ ref('stg_materials__sales') }}
),

batches as (
    select * from {{ ref('fct_batches') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

sale_lines as (
    select
        sales.site_id,
        sales.sale_id,
        sales.product_id,
        sales.sold_at,
        {{ month_start(utc_to_local('sales.sold_at', "coalesce(sites.timezone, 'UTC')")) }}
            as month,
        cast(sales.qty as decimal(18, 6)) as qty,
        cast(sales.qty as decimal(18, 6)) * cast(sales.unit_price as decimal(38, 8)) as revenue,
        lot_batches.unit_cost as lot_unit_cost
    from sales
    left join sites
        on sales.site_id = sites.site_id
    left join batches as lot_batches
        on sales.site_id = lot_batches.site_id
        and sales.lot_id = lot_batches.output_lot_id
),

product_costs as (
    select
        sale_lines.site_id,
        sale_lines.sale_id,
        {{ safe_divide(
            'sum(batches.actual_cost)',
            'sum(case when batches.actual_cost is not null then batches.good_qty end)'
        ) }} as product_unit_cost
    from sale_lines
    inner join batches
        on sale_lines.site_id = batches.site_id
        and sale_lines.product_id = batches.product_id
        and sale_lines.sold_at >= batches.finished_at
    where sale_lines.lot_unit_cost is null
    group by sale_lines.site_id, sale_lines.sale_id
),

costed as (
    select
        sale_lines.*,
        sale_lines.qty * coalesce(sale_lines.lot_unit_cost, product_costs.product_unit_cost)
            as cogs
    from sale_lines
    left join product_costs
        on sale_lines.site_id = product_costs.site_id
        and sale_lines.sale_id = product_costs.sale_id
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
        {{ count_where('cogs is null') }} as sales_without_cost
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
