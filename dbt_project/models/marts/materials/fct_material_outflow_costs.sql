{#- The FIFO cost of every outflow (issue, return to vendor, adjustment out, waste). An outflow
    beyond every inflow of its material is short: the units no layer covers are `unallocated_qty`
    and carry no cost (never a guessed one); one that draws on a layer received after it is
    back-dated. `unit_cost` is the cost of the allocated units per unit. -#}
with

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

allocations as (
    select * from {{ ref('fct_material_fifo_allocations') }}
),

outflows as (
    select * from ledger
    where direction = 'out'
),

drawn as (
    select
        site_id,
        movement_id,
        sum(qty) as allocated_qty,
        -- a layer without any cost (no receipt of the material at all) leaves the cost unknown
        {{ sum_all_known('cost') }} as cost,
        sum(case when is_backdated_draw then qty else 0 end) as backdated_qty,
        count(*) as layers_drawn
    from allocations
    group by site_id, movement_id
),

joined as (
    select
        outflows.site_id,
        outflows.material_id,
        outflows.entry_id as movement_id,
        outflows.entry_kind as kind,
        outflows.entry_at as moved_at,
        outflows.local_day,
        outflows.ledger_seq,
        outflows.qty,
        coalesce(drawn.allocated_qty, 0) as allocated_qty,
        case when drawn.movement_id is null then 0 else drawn.cost end as cost,
        coalesce(drawn.backdated_qty, 0) as backdated_qty,
        coalesce(drawn.layers_drawn, 0) as layers_drawn,
        outflows.recorded_lot_id,
        outflows.batch_id,
        outflows.job_id,
        outflows.reason
    from outflows
    left join drawn
        on outflows.site_id = drawn.site_id
        and outflows.entry_id = drawn.movement_id
),

final as (
    select
        site_id,
        material_id,
        movement_id,
        kind,
        moved_at,
        local_day,
        ledger_seq,
        qty,
        allocated_qty,
        qty - allocated_qty as unallocated_qty,
        backdated_qty,
        layers_drawn,
        cost,
        {{ safe_divide('cost', 'allocated_qty') }} as unit_cost,
        case
            when qty > allocated_qty then 'short'
            when backdated_qty > 0 then 'backdated'
            else 'ok'
        end as costing_status,
        recorded_lot_id,
        batch_id,
        job_id,
        reason
    from joined
)

select * from final
