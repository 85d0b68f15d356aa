{#- Stock of every material at the end of every site-local day, from its first movement to the
    site's as-of day. FIFO value on hand = value of every layer received so far - FIFO cost of
    every outflow so far (the k-th unit out costs the k-th unit in, so what is left is the
    latest units); both quantity and value go negative while back-dated outflows wait for the
    receipt they draw on. `cogs` is the FIFO cost of the day's issues. -#}
with

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

outflow_costs as (
    select * from {{ ref('fct_material_outflow_costs') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

flows as (
    select
        site_id,
        material_id,
        local_day as day,
        qty as inflow_qty,
        case when entry_kind = 'receipt' then qty else 0 end as received_qty,
        qty * unit_cost as inflow_value,
        0 as outflow_qty,
        0 as outflow_cost,
        0 as issued_qty,
        0 as cogs,
        0 as waste_qty,
        0 as waste_value,
        0 as unallocated_qty
    from ledger
    where direction = 'in'
    union all
    select
        site_id,
        material_id,
        local_day as day,
        0 as inflow_qty,
        0 as received_qty,
        0 as inflow_value,
        qty as outflow_qty,
        cost as outflow_cost,
        case when kind = 'issue' then qty else 0 end as issued_qty,
        case when kind = 'issue' then cost else 0 end as cogs,
        case when kind = 'waste' then qty else 0 end as waste_qty,
        case when kind = 'waste' then cost else 0 end as waste_value,
        unallocated_qty
    from outflow_costs
),

-- the days something moved, with the stock at their end
active_days as (
    select
        flows.site_id,
        flows.material_id,
        flows.day,
        sum(flows.inflow_qty) as inflow_qty,
        sum(flows.received_qty) as received_qty,
        sum(flows.inflow_value) as inflow_value,
        sum(flows.outflow_qty) as outflow_qty,
        sum(flows.outflow_cost) as outflow_cost,
        sum(flows.issued_qty) as issued_qty,
        sum(flows.cogs) as cogs,
        sum(flows.waste_qty) as waste_qty,
        sum(flows.waste_value) as waste_value,
        sum(flows.unallocated_qty) as unallocated_qty
    from flows
    inner join sites
        on flows.site_id = sites.site_id
    where flows.day <= sites.as_of_day
    group by flows.site_id, flows.material_id, flows.day
),

running as (
    select
        active_days.*,
        sum(inflow_qty - outflow_qty) over material_days as on_hand_qty,
        sum(inflow_value - outflow_cost) over material_days as on_hand_value,
        lead(day) over (partition by site_id, material_id order by day) as next_day
    from active_days
    window material_days as (
        partition by site_id, material_id
        order by day
        rows between unbounded preceding and current row
    )
),

-- every day from an active day to the day before the next one (or the as-of day) carries its
-- stock; only the active day itself carries the flows: no window over the full day grid
spread as (
    select
        running.*,
        {{ unnest_days(
            'running.day',
            "coalesce(" ~ add_days('running.next_day', -1) ~ ", sites.as_of_day)"
        ) }} as grid_day
    from running
    inner join sites
        on running.site_id = sites.site_id
),

final as (
    select
        site_id,
        material_id,
        grid_day as day,
        on_hand_qty,
        on_hand_value,
        case when grid_day = day then inflow_qty else 0 end as inflow_qty,
        case when grid_day = day then received_qty else 0 end as received_qty,
        case when grid_day = day then inflow_value else 0 end as inflow_value,
        case when grid_day = day then outflow_qty else 0 end as outflow_qty,
        case when grid_day = day then outflow_cost else 0 end as outflow_cost,
        case when grid_day = day then issued_qty else 0 end as issued_qty,
        case when grid_day = day then cogs else 0 end as cogs,
        case when grid_day = day then waste_qty else 0 end as waste_qty,
        case when grid_day = day then waste_value else 0 end as waste_value,
        case when grid_day = day then unallocated_qty else 0 end as unallocated_qty
    from spread
)

select * from final
