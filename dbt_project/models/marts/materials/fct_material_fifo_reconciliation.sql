{#- Where the source system recorded the lot an outflow came from (movements.lot_id), that lot
    against the lots FIFO draws on: whether FIFO drew the whole outflow from the recorded lot,
    how much it drew from it, and the cost at the recorded lot's unit cost against the FIFO cost.
    A recorded lot that is no layer of the material (unknown, or another material's) is told
    apart. -#}
with

outflow_costs as (
    select * from {{ ref('fct_material_outflow_costs') }}
),

allocations as (
    select * from {{ ref('fct_material_fifo_allocations') }}
),

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

recorded as (
    select * from outflow_costs
    where recorded_lot_id is not null
),

layers as (
    select
        site_id,
        layer_id as lot_id,
        material_id,
        unit_cost
    from ledger
    where direction = 'in'
),

drawn as (
    select
        allocations.site_id,
        allocations.movement_id,
        {{ dbt.listagg(
            'allocations.lot_id',
            "', '",
            'order by allocations.layer_received_at, allocations.lot_id'
        ) }} as fifo_lot_ids,
        count(*) as fifo_lots,
        sum(case when allocations.lot_id = recorded.recorded_lot_id then allocations.qty else 0 end)
            as fifo_qty_from_recorded_lot
    from allocations
    inner join recorded
        on allocations.site_id = recorded.site_id
        and allocations.movement_id = recorded.movement_id
    group by allocations.site_id, allocations.movement_id
),

final as (
    select
        recorded.site_id,
        recorded.movement_id,
        recorded.material_id,
        recorded.kind,
        recorded.moved_at,
        recorded.qty,
        recorded.recorded_lot_id,
        recorded_layer.lot_id is not null as is_recorded_lot_known,
        coalesce(drawn.fifo_qty_from_recorded_lot, 0) as fifo_qty_from_recorded_lot,
        drawn.fifo_lot_ids,
        coalesce(drawn.fifo_lots, 0) as fifo_lots,
        coalesce(drawn.fifo_qty_from_recorded_lot, 0) = recorded.qty as is_match,
        recorded.cost as fifo_cost,
        recorded.qty * recorded_layer.unit_cost as recorded_lot_cost,
        recorded.qty * recorded_layer.unit_cost - recorded.cost as cost_difference,
        recorded.costing_status
    from recorded
    left join drawn
        on recorded.site_id = drawn.site_id
        and recorded.movement_id = drawn.movement_id
    left join layers as recorded_layer
        on recorded.site_id = recorded_layer.site_id
        and recorded.material_id = recorded_layer.material_id
        and recorded.recorded_lot_id = recorded_layer.lot_id
)

select * from final
