{#- Every production batch: planned and actual material cost, yield and unit cost
    (int_material_batches), and the margin on the sales of its output lot. Yield % = good output
    / planned output x 100, where good output = actual output - samples and retains (the planned
    output is the recipe scaled to the batch). Unit cost = actual cost / good output. The units
    sold cost what int_material_sale_costs says a sale of the lot costs: the lot's own unit cost
    (fct_lot_costs), which is the batch's unit cost unless the lot also took parent lots by a
    split, merge or rework (101A: its lavender 0.50 a bar and the 101 bars split into it, 0.607);
    margin = revenue - that cost of goods sold. -#}
with

batches as (
    select * from {{ ref('int_material_batches') }}
),

sale_costs as (
    select * from {{ ref('int_material_sale_costs') }}
),

lot_sales as (
    select
        site_id,
        lot_id,
        sum(qty) as qty_sold,
        sum(revenue) as revenue,
        {{ sum_all_known('cogs') }} as cogs
    from sale_costs
    where lot_id is not null
    group by site_id, lot_id
),

final as (
    select
        batches.*,
        coalesce(lot_sales.qty_sold, 0) as qty_sold,
        coalesce(lot_sales.revenue, 0) as revenue,
        lot_sales.cogs,
        lot_sales.revenue - lot_sales.cogs as margin,
        {{ safe_divide('100 * (lot_sales.revenue - lot_sales.cogs)', 'lot_sales.revenue') }}
            as margin_pct
    from batches
    left join lot_sales
        on batches.site_id = lot_sales.site_id
        and batches.output_lot_id = lot_sales.lot_id
)

select * from final
