{#- What every sale cost, by one rule for every mart that costs sales (fct_batches,
    fct_product_margins_monthly, fct_customer_lifetime_value): a sale that names a lot costs its
    quantity x the lot's own unit cost (fct_lot_costs: a batch's output lot its batch's, a lot
    made by a split, merge or rework what its parents brought plus its own batch's, 101A's
    lavender bars 0.607 a bar); a sale without a lot, or of a lot whose cost is unknown, the
    quantity-weighted unit cost of the product's batches finished by then. A sale neither gives a
    cost to has none (never a guessed one). -#}
with

sales as (
    select * from {{ ref('stg_materials__sales') }}
),

lot_costs as (
    select * from {{ ref('fct_lot_costs') }}
),

batches as (
    select * from {{ ref('int_material_batches') }}
),

sale_lines as (
    select
        sales.site_id,
        sales.sale_id,
        sales.sold_at,
        sales.customer_id,
        sales.product_id,
        sales.lot_id,
        cast(sales.qty as decimal(18, 6)) as qty,
        cast(sales.unit_price as decimal(38, 8)) as unit_price,
        lot_costs.unit_cost as lot_unit_cost
    from sales
    left join lot_costs
        on sales.site_id = lot_costs.site_id
        and sales.lot_id = lot_costs.lot_id
),

-- the product's batches finished by the sale, for the sales without a lot cost
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
        coalesce(sale_lines.lot_unit_cost, product_costs.product_unit_cost) as unit_cost,
        case
            when sale_lines.lot_unit_cost is not null then 'lot'
            when product_costs.product_unit_cost is not null then 'product_batches'
        end as cost_basis
    from sale_lines
    left join product_costs
        on sale_lines.site_id = product_costs.site_id
        and sale_lines.sale_id = product_costs.sale_id
),

final as (
    select
        site_id,
        sale_id,
        sold_at,
        customer_id,
        product_id,
        lot_id,
        qty,
        unit_price,
        qty * unit_price as revenue,
        unit_cost,
        cost_basis,
        qty * unit_cost as cogs
    from costed
)

select * from final
