{#- One table of lot genealogy edges, parent -> child, for the forward ("where used") and
    backward ("where from") traces (reports/materials/genealogy.py):
    - consume: a lot issued to a production batch -> the batch's output lot, or to a job -> the
      job. The lot is the one the source system deducted; where it recorded none, the lots FIFO
      drew the issue from (one edge per layer drawn; stock returned by a customer is the lot
      its return names).
    - split / merge / rework: the recorded lot edges.
    - ship: a sold lot -> the sale (its customer on the edge).
    Node ids of sales and jobs are prefixed (`sale:S1`, `job:J1`) so that they never clash with
    a lot id; `child_kind` says what a node is. -#}
with

movements as (
    select * from {{ ref('stg_materials__movements') }}
),

batches as (
    select * from {{ ref('stg_materials__batches') }}
),

jobs as (
    select * from {{ ref('stg_materials__jobs') }}
),

lot_edges as (
    select * from {{ ref('stg_materials__lot_edges') }}
),

sales as (
    select * from {{ ref('stg_materials__sales') }}
),

allocations as (
    select * from {{ ref('fct_material_fifo_allocations') }}
),

lots as (
    select * from {{ ref('dim_lots') }}
),

-- issues to a batch or a job: what each one made
issues as (
    select
        movements.site_id,
        movements.movement_id,
        movements.moved_at,
        movements.material_id,
        movements.lot_id,
        movements.qty,
        movements.unit,
        movements.batch_id,
        case when movements.batch_id is null then movements.job_id end as job_id,
        case
            when movements.batch_id is not null then batches.output_lot_id
            else 'job:' || movements.job_id
        end as child_lot_id,
        -- a batch's output lot is whatever kind dim_lots says it is
        case when movements.batch_id is null then 'job' end as child_kind,
        jobs.customer_id
    from movements
    left join batches
        on movements.site_id = batches.site_id
        and movements.batch_id = batches.batch_id
    left join jobs
        on movements.site_id = jobs.site_id
        and movements.job_id = jobs.job_id
        and movements.batch_id is null
    where movements.kind = 'issue'
        and (batches.output_lot_id is not null or jobs.job_id is not null)
),

consumed_recorded as (
    select
        'consume:' || movement_id as edge_key,
        site_id,
        'consume' as relation,
        lot_id as parent_lot_id,
        child_lot_id,
        child_kind,
        qty,
        unit,
        moved_at,
        material_id,
        movement_id,
        batch_id,
        job_id,
        cast(null as varchar) as edge_id,
        cast(null as varchar) as sale_id,
        customer_id,
        'recorded' as lot_basis
    from issues
    where lot_id is not null
),

-- issues whose source recorded no lot: the FIFO layers they drew on. A layer is a receipt's lot,
-- or stock that came back in (a customer's return, an adjustment), named by its movement: that
-- stock is the lot the movement recorded, and untraceable when it recorded none
consumed_fifo as (
    select
        'consume:' || issues.movement_id || ':' || allocations.lot_id as edge_key,
        issues.site_id,
        'consume' as relation,
        case
            when allocations.layer_kind = 'receipt' then allocations.lot_id
            else inflows.lot_id
        end as parent_lot_id,
        issues.child_lot_id,
        issues.child_kind,
        allocations.qty,
        issues.unit,
        issues.moved_at,
        issues.material_id,
        issues.movement_id,
        issues.batch_id,
        issues.job_id,
        cast(null as varchar) as edge_id,
        cast(null as varchar) as sale_id,
        issues.customer_id,
        'fifo' as lot_basis
    from issues
    inner join allocations
        on issues.site_id = allocations.site_id
        and issues.movement_id = allocations.movement_id
    left join movements as inflows
        on allocations.site_id = inflows.site_id
        and allocations.lot_id = inflows.movement_id
        and allocations.layer_kind != 'receipt'
    where issues.lot_id is null
        and (allocations.layer_kind = 'receipt' or inflows.lot_id is not null)
),

recorded_edges as (
    select
        'edge:' || edge_id as edge_key,
        site_id,
        relation,
        parent_lot_id,
        child_lot_id,
        cast(null as varchar) as child_kind,
        qty,
        unit,
        moved_at,
        cast(null as varchar) as material_id,
        cast(null as varchar) as movement_id,
        cast(null as varchar) as batch_id,
        cast(null as varchar) as job_id,
        edge_id,
        cast(null as varchar) as sale_id,
        cast(null as varchar) as customer_id,
        'recorded' as lot_basis
    from lot_edges
),

shipped as (
    select
        'ship:' || sale_id as edge_key,
        site_id,
        'ship' as relation,
        lot_id as parent_lot_id,
        'sale:' || sale_id as child_lot_id,
        'shipment' as child_kind,
        qty,
        unit,
        sold_at as moved_at,
        cast(null as varchar) as material_id,
        cast(null as varchar) as movement_id,
        cast(null as varchar) as batch_id,
        cast(null as varchar) as job_id,
        cast(null as varchar) as edge_id,
        sale_id,
        customer_id,
        'recorded' as lot_basis
    from sales
    where lot_id is not null
),

edges as (
    select * from consumed_recorded
    union all
    select * from consumed_fifo
    union all
    select * from recorded_edges
    union all
    select * from shipped
),

final as (
    select
        edges.edge_key,
        edges.site_id,
        edges.relation,
        edges.parent_lot_id,
        coalesce(parents.kind, 'unknown_lot') as parent_kind,
        edges.child_lot_id,
        coalesce(edges.child_kind, children.kind, 'unknown_lot') as child_kind,
        edges.qty,
        edges.unit,
        edges.moved_at,
        coalesce(edges.material_id, parents.material_id) as material_id,
        coalesce(children.product_id, parents.product_id) as product_id,
        coalesce(edges.batch_id, children.batch_id) as batch_id,
        edges.movement_id,
        edges.job_id,
        edges.edge_id,
        edges.sale_id,
        edges.customer_id,
        edges.lot_basis
    from edges
    left join lots as parents
        on edges.site_id = parents.site_id
        and edges.parent_lot_id = parents.lot_id
    left join lots as children
        on edges.site_id = children.site_id
        and edges.child_lot_id = children.lot_id
)

select * from final
