{#- What one unit of each lot cost, in the site currency per unit of the lot: a received lot its
    receipt's unit cost; a batch's output lot its batch's unit cost (int_material_batches: FIFO
    cost of the materials issued over the good output, samples and retains excluded); a lot made
    by a split, merge or rework (also one a batch finished with added ingredients) the cost of
    the parent quantities it took plus its own. Sales cost these (int_material_sale_costs).
    Costs flow down the edges path by path: a parent's unit cost x edge qty / child qty at each
    step; a cycle among the edges, or a chain deeper than 50 edges, stops the flow. -#}
with recursive

lots as (
    select * from {{ ref('dim_lots') }}
),

receipts as (
    select * from {{ ref('stg_materials__receipts') }}
),

batches as (
    select * from {{ ref('int_material_batches') }}
),

lot_edges as (
    select * from {{ ref('stg_materials__lot_edges') }}
),

incoming as (
    select
        site_id,
        child_lot_id as lot_id,
        sum(qty) as edge_qty
    from lot_edges
    where relation in ('split', 'merge', 'rework')
    group by site_id, child_lot_id
),

-- each lot's own cost and the quantity it holds
own as (
    select
        lots.site_id,
        lots.lot_id,
        lots.kind,
        lots.origin,
        lots.material_id,
        lots.product_id,
        coalesce(
            receipts.qty, cast(batches.good_qty as double precision), incoming.edge_qty
        ) as qty,
        case
            when receipts.lot_id is not null
                then cast(receipts.qty * receipts.unit_cost as double precision)
            -- a batch whose material cost is unknown (an issue drew on stock without any cost)
            -- leaves its lot's cost unknown, not free
            when batches.batch_id is not null
                then cast(batches.actual_cost as double precision)
            else 0.0
        end as own_cost,
        coalesce(batches.unallocated_qty, 0) > 0 as is_short
    from lots
    left join receipts
        on lots.site_id = receipts.site_id
        and lots.lot_id = receipts.lot_id
        and lots.origin = 'receipt'
    left join batches
        on lots.site_id = batches.site_id
        and lots.lot_id = batches.output_lot_id
        and lots.origin = 'batch'
    left join incoming
        on lots.site_id = incoming.site_id
        and lots.lot_id = incoming.lot_id
),

-- the share of the child each edge brought: edge qty / child qty
costed_edges as (
    select
        lot_edges.site_id,
        lot_edges.parent_lot_id,
        lot_edges.child_lot_id,
        lot_edges.qty / nullif(own.qty, 0) as share
    from lot_edges
    inner join own
        on lot_edges.site_id = own.site_id
        and lot_edges.child_lot_id = own.lot_id
    where lot_edges.relation in ('split', 'merge', 'rework')
),

flows (site_id, lot_id, unit_cost, path, depth) as (
    select
        site_id,
        lot_id,
        own_cost / nullif(qty, 0),
        {{ path_start('lot_id') }},
        0
    from own
    union all
    select
        flows.site_id,
        costed_edges.child_lot_id,
        flows.unit_cost * costed_edges.share,
        {{ path_append('flows.path', 'costed_edges.child_lot_id') }},
        flows.depth + 1
    from flows
    inner join costed_edges
        on flows.site_id = costed_edges.site_id
        and flows.lot_id = costed_edges.parent_lot_id
    where flows.depth < 50
        and not {{ path_contains('flows.path', 'costed_edges.child_lot_id') }}
),

rolled as (
    select
        site_id,
        lot_id,
        sum(unit_cost) as unit_cost,
        count(unit_cost) = count(*) as all_known
    from flows
    group by site_id, lot_id
),

final as (
    select
        own.site_id,
        own.lot_id,
        own.kind,
        own.origin,
        own.material_id,
        own.product_id,
        own.qty,
        cast(own.own_cost as decimal(18, 4)) as own_cost,
        case when rolled.all_known then rolled.unit_cost end as unit_cost,
        cast(case when rolled.all_known then rolled.unit_cost * own.qty end as decimal(18, 4))
            as total_cost,
        own.is_short
    from own
    left join rolled
        on own.site_id = rolled.site_id
        and own.lot_id = rolled.lot_id
)

select * from final
