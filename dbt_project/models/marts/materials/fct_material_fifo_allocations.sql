{#- FIFO by range overlap (docs/materials.md, Costing): per material, the k-th unit out is the
    k-th unit in. Each inflow layer occupies [range_start, range_end) of the material's cumulative
    inflow, each outflow the same span of its cumulative outflow; an outflow draws from every
    layer its span overlaps, least(ends) - greatest(starts) units at the layer's unit cost.
    Partial lots need nothing special. A layer placed after the outflow in the ledger (received
    later: stock was negative when the outflow was booked) is a back-dated draw; units beyond the
    last layer draw on nothing and appear as unallocated in fct_material_outflow_costs.

    The overlaps come from a boundary merge, not from a join of every layer with every outflow of
    a material (quadratic in its movements). The starts of the material's layers and outflows,
    in one order, cut its axis into segments; an overlap always begins at the later of its two
    starts. So each start pairs with the entry of the other kind that covers it: the last of
    that kind to start at or before it (a running maximum over the merged starts), provided that
    entry ends after the start. A layer start inside an outflow gives that pair, an outflow start
    inside a layer the other pairs, and every (outflow, layer) pair comes out exactly once, from
    its later start to the nearer end. (A layer and an outflow starting at one point: the one
    merged first finds the entry of the other kind that ends there, and draws nothing from it.)
    One sort per material and one hash join on equality keys: n log n in the material's
    movements. An entry without quantity spans nothing and neither draws nor gives. -#}
with

-- read twice below, scanned twice (materialising the whole ledger first costs more)
ledger as not materialized (
    select * from {{ ref('int_material_ledger') }}
    where range_end > range_start
),

-- every start on the axis, with the start of the last entry of the other kind at or before it
boundaries as (
    select
        site_id,
        material_id,
        direction,
        case when direction = 'in' then 'out' else 'in' end as other_direction,
        range_start,
        range_end,
        ledger_seq,
        coalesce(layer_id, entry_id) as entry_ref,
        entry_kind,
        entry_at,
        unit_cost,
        case
            when direction = 'in'
                then max(case when direction = 'out' then range_start end) over material_axis
            else max(case when direction = 'in' then range_start end) over material_axis
        end as other_start
    from ledger
    window material_axis as (
        partition by site_id, material_id
        order by range_start, ledger_seq
        rows between unbounded preceding and current row
    )
),

-- the entry of the other kind that covers the start (one at most: starts are unique per kind)
paired as (
    select
        boundaries.*,
        others.range_end as other_end,
        others.ledger_seq as other_seq,
        coalesce(others.layer_id, others.entry_id) as other_ref,
        others.entry_kind as other_kind,
        others.entry_at as other_at,
        others.unit_cost as other_unit_cost
    from boundaries
    inner join ledger as others
        on boundaries.site_id = others.site_id
        and boundaries.material_id = others.material_id
        and boundaries.other_direction = others.direction
        and boundaries.other_start = others.range_start
    where boundaries.range_start < others.range_end
),

allocated as (
    select
        site_id,
        material_id,
        case when direction = 'out' then entry_ref else other_ref end as movement_id,
        case when direction = 'out' then entry_kind else other_kind end as movement_kind,
        case when direction = 'out' then entry_at else other_at end as moved_at,
        case when direction = 'in' then entry_ref else other_ref end as lot_id,
        case when direction = 'in' then entry_kind else other_kind end as layer_kind,
        case when direction = 'in' then entry_at else other_at end as layer_received_at,
        case when direction = 'in' then ledger_seq else other_seq end as layer_seq,
        case when direction = 'out' then ledger_seq else other_seq end as outflow_seq,
        -- the overlap starts here, at the later start
        range_start as overlap_start,
        case when direction = 'in' then range_start else other_start end as layer_start,
        least(range_end, other_end) as overlap_end,
        case when direction = 'in' then unit_cost else other_unit_cost end as unit_cost
    from paired
),

final as (
    select
        site_id,
        material_id,
        movement_id,
        movement_kind,
        moved_at,
        lot_id,
        layer_kind,
        layer_received_at,
        overlap_start - layer_start as layer_offset,
        overlap_end - overlap_start as qty,
        unit_cost,
        (overlap_end - overlap_start) * unit_cost as cost,
        layer_seq > outflow_seq as is_backdated_draw
    from allocated
)

select * from final
