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

inflow_days as (
    select
        site_id,
        material_id,
        local_day as day,
        sum(qty) as inflow_qty,
        sum(qty * unit_cost) as inflow_value,
        sum(case when entry_kind = 'receipt' then qty else 0 end) as received_qty
    from ledger
    where direction = 'in'
    group by site_id, material_id, local_day
),

outflow_days as (
    select
        site_id,
        material_id,
        local_day as day,
        sum(qty) as outflow_qty,
        sum(cost) as outflow_cost,
        sum(case when kind = 'issue' then qty else 0 end) as issued_qty,
        sum(case when kind = 'issue' then cost else 0 end) as cogs,
        sum(case when kind = 'waste' then qty else 0 end) as waste_qty,
        sum(case when kind = 'waste' then cost else 0 end) as waste_value,
        sum(unallocated_qty) as unallocated_qty
    from outflow_costs
    group by site_id, material_id, local_day
),

spans as (
    select
        ledger.site_id,
        ledger.material_id,
        min(ledger.local_day) as first_day,
        max(sites.as_of_day) as last_day
    from ledger
    inner join sites
        on ledger.site_id = sites.site_id
    group by ledger.site_id, ledger.material_id
),

days as (
    select
        site_id,
        material_id,
        {{ unnest_days('first_day', 'last_day') }} as day
    from spans
    where first_day <= last_day
),

daily as (
    select
        days.site_id,
        days.material_id,
        days.day,
        coalesce(inflow_days.inflow_qty, 0) as inflow_qty,
        coalesce(inflow_days.received_qty, 0) as received_qty,
        coalesce(inflow_days.inflow_value, 0) as inflow_value,
        coalesce(outflow_days.outflow_qty, 0) as outflow_qty,
        coalesce(outflow_days.outflow_cost, 0) as outflow_cost,
        coalesce(outflow_days.issued_qty, 0) as issued_qty,
        coalesce(outflow_days.cogs, 0) as cogs,
        coalesce(outflow_days.waste_qty, 0) as waste_qty,
        coalesce(outflow_days.waste_value, 0) as waste_value,
        coalesce(outflow_days.unallocated_qty, 0) as unallocated_qty
    from days
    left join inflow_days
        on days.site_id = inflow_days.site_id
        and days.material_id = inflow_days.material_id
        and days.day = inflow_days.day
    left join outflow_days
        on days.site_id = outflow_days.site_id
        and days.material_id = outflow_days.material_id
        and days.day = outflow_days.day
),

final as (
    select
        site_id,
        material_id,
        day,
        sum(inflow_qty - outflow_qty) over (
            partition by site_id, material_id order by day
            rows between unbounded preceding and current row
        ) as on_hand_qty,
        sum(inflow_value - outflow_cost) over (
            partition by site_id, material_id order by day
            rows between unbounded preceding and current row
        ) as on_hand_value,
        inflow_qty,
        received_qty,
        inflow_value,
        outflow_qty,
        outflow_cost,
        issued_qty,
        cogs,
        waste_qty,
        waste_value,
        unallocated_qty
    from daily
)

select * from final
