{#- Every lot a site's records name, with where it came from: a receipt (a material lot), a
    production batch's output (a product lot), or a split, merge or rework of other lots. A lot
    made by an edge takes its kind from its parents (a split of a product lot is a product lot),
    through any number of edges; lots named only by a movement, a sale or a test result are
    `unknown_lot`. -#}
with recursive

receipts as (
    select * from {{ ref('stg_materials__receipts') }}
),

batches as (
    select * from {{ ref('stg_materials__batches') }}
),

lot_edges as (
    select * from {{ ref('stg_materials__lot_edges') }}
),

movements as (
    select * from {{ ref('stg_materials__movements') }}
),

sales as (
    select * from {{ ref('stg_materials__sales') }}
),

qc_results as (
    select * from {{ ref('stg_materials__qc_results') }}
),

received as (
    select
        site_id,
        lot_id,
        'material_lot' as kind,
        'receipt' as origin,
        material_id,
        cast(null as varchar) as product_id,
        cast(null as varchar) as batch_id,
        received_at as created_at,
        supplier_id,
        supplier_lot,
        receipt_id,
        expiry_date
    from receipts
),

-- a lot received is a material lot even if a batch record also names it as its output
produced as (
    select
        batches.site_id,
        batches.output_lot_id as lot_id,
        'product_lot' as kind,
        'batch' as origin,
        cast(null as varchar) as material_id,
        batches.product_id,
        batches.batch_id,
        batches.finished_at as created_at,
        cast(null as varchar) as supplier_id,
        cast(null as varchar) as supplier_lot,
        cast(null as varchar) as receipt_id,
        cast(null as date) as expiry_date
    from batches
    left join received
        on batches.site_id = received.site_id
        and batches.output_lot_id = received.lot_id
    where batches.output_lot_id is not null
        and received.lot_id is null
),

originated as (
    select * from received
    union all
    select * from produced
),

-- lots made by an edge (and by nothing else): the edge's relation and its earliest time
edge_made as (
    select
        lot_edges.site_id,
        lot_edges.child_lot_id as lot_id,
        min(lot_edges.relation) as relation,
        min(lot_edges.moved_at) as created_at
    from lot_edges
    left join originated
        on lot_edges.site_id = originated.site_id
        and lot_edges.child_lot_id = originated.lot_id
    where originated.lot_id is null
    group by lot_edges.site_id, lot_edges.child_lot_id
),

-- what an edge-made lot inherits from its parents, edge after edge; `union` drops repeats, so
-- a cycle among the edges ends the recursion instead of looping
inherited (site_id, lot_id, kind, material_id, product_id, batch_id) as (
    select site_id, lot_id, kind, material_id, product_id, batch_id
    from originated
    union
    select
        lot_edges.site_id,
        lot_edges.child_lot_id,
        inherited.kind,
        inherited.material_id,
        inherited.product_id,
        inherited.batch_id
    from inherited
    inner join lot_edges
        on inherited.site_id = lot_edges.site_id
        and inherited.lot_id = lot_edges.parent_lot_id
    inner join edge_made
        on lot_edges.site_id = edge_made.site_id
        and lot_edges.child_lot_id = edge_made.lot_id
),

-- a merge of a product lot with material lots is a product lot; a material, product or batch
-- is kept only when every parent agrees on it
inheritance as (
    select
        site_id,
        lot_id,
        max(kind) as kind,
        case when count(distinct material_id) = 1 and count(*) = count(material_id)
                then min(material_id) end as material_id,
        case when count(distinct product_id) = 1 and count(*) = count(product_id)
                then min(product_id) end as product_id,
        case when count(distinct batch_id) = 1 and count(*) = count(batch_id)
                then min(batch_id) end as batch_id
    from inherited
    group by site_id, lot_id
),

edge_lots as (
    select
        edge_made.site_id,
        edge_made.lot_id,
        coalesce(inheritance.kind, 'unknown_lot') as kind,
        edge_made.relation as origin,
        inheritance.material_id,
        inheritance.product_id,
        inheritance.batch_id,
        edge_made.created_at,
        cast(null as varchar) as supplier_id,
        cast(null as varchar) as supplier_lot,
        cast(null as varchar) as receipt_id,
        cast(null as date) as expiry_date
    from edge_made
    left join inheritance
        on edge_made.site_id = inheritance.site_id
        and edge_made.lot_id = inheritance.lot_id
),

known as (
    select * from originated
    union all
    select * from edge_lots
),

named as (
    select site_id, parent_lot_id as lot_id from lot_edges
    union
    select site_id, lot_id from movements where lot_id is not null
    union
    select site_id, lot_id from sales where lot_id is not null
    union
    select site_id, lot_id from qc_results where lot_id is not null
),

unrecorded as (
    select
        named.site_id,
        named.lot_id,
        'unknown_lot' as kind,
        'unrecorded' as origin,
        cast(null as varchar) as material_id,
        cast(null as varchar) as product_id,
        cast(null as varchar) as batch_id,
        cast(null as timestamp with time zone) as created_at,
        cast(null as varchar) as supplier_id,
        cast(null as varchar) as supplier_lot,
        cast(null as varchar) as receipt_id,
        cast(null as date) as expiry_date
    from named
    left join known
        on named.site_id = known.site_id
        and named.lot_id = known.lot_id
    where known.lot_id is null
),

final as (
    select * from known
    union all
    select * from unrecorded
)

select * from final
