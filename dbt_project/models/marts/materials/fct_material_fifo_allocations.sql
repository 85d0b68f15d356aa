{#- FIFO by range overlap (docs/materials.md, Costing): per material, the k-th unit out is the
    k-th unit in. Each inflow layer occupies [range_start, range_end) of the material's cumulative
    inflow, each outflow the same span of its cumulative outflow; an outflow draws from every
    layer its span overlaps, least(ends) - greatest(starts) units at the layer's unit cost.
    Partial lots need nothing special. A layer placed after the outflow in the ledger (received
    later: stock was negative when the outflow was booked) is a back-dated draw; units beyond the
    last layer draw on nothing and appear as unallocated in fct_material_outflow_costs. -#}
with

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

layers as (
    select * from ledger
    where direction = 'in'
),

outflows as (
    select * from ledger
    where direction = 'out'
),

allocated as (
    select
        outflows.site_id,
        outflows.material_id,
        outflows.entry_id as movement_id,
        outflows.entry_kind as movement_kind,
        outflows.entry_at as moved_at,
        layers.layer_id as lot_id,
        layers.entry_kind as layer_kind,
        layers.entry_at as layer_received_at,
        layers.ledger_seq > outflows.ledger_seq as is_backdated_draw,
        least(layers.range_end, outflows.range_end)
        - greatest(layers.range_start, outflows.range_start) as qty,
        layers.unit_cost,
        greatest(layers.range_start, outflows.range_start) - layers.range_start
            as layer_offset
    from outflows
    inner join layers
        on outflows.site_id = layers.site_id
        and outflows.material_id = layers.material_id
        and outflows.range_end > layers.range_start
        and outflows.range_start < layers.range_end
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
        layer_offset,
        qty,
        unit_cost,
        qty * unit_cost as cost,
        is_backdated_draw
    from allocated
)

select * from final
