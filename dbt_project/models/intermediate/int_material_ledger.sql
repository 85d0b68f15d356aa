{#- Every stock inflow and outflow of every material, in the material's base unit, in ledger
    order: by instant, then source order (receipts, then other inflows, then outflows: stock
    received at the instant of an issue is there for it), then entry id. Every window below
    orders by that whole tie-break, so equal instants cost the same on every run.

    Inflows are FIFO layers: a receipt's layer is its lot (expiring on its expiry date, else
    the material's shelf life after its local day); a return from a customer or an adjustment
    in is a layer of its own, named by its movement id, costed at the cost the record gives or
    else the material's last receipt cost at or before it (the first receipt after it when there
    is none before). Outflows (issues, returns to vendor, adjustments out, waste) take
    units from the layers in order. `range_start`/`range_end` place each entry on the material's
    cumulative inflow (or outflow) axis: the range-overlap FIFO joins them. Quantities and costs
    are DECIMAL so that sums reproduce to the cent.

    Nothing here grows faster than n log n in a material's entries: one sort for the running
    figures, and the receipt costs of the inflows that give none looked up by an as-of join
    (a window's last non-null value would scan back over every entry since the last receipt:
    quadratic for one lot issued a million times). -#}
with

-- receipts and movements are read twice below (the ledger, the receipt costs): scanned twice,
-- not materialised
receipts as not materialized (
    select * from {{ ref('stg_materials__receipts') }}
),

movements as not materialized (
    select * from {{ ref('stg_materials__movements') }}
),

sites as (
    select * from {{ ref('stg_site_config__sites') }}
),

materials as (
    select * from {{ ref('stg_site_config__materials') }}
),

-- the receipt costs an inflow without a cost of its own takes: per material and instant the last
-- receipt (receipts at one instant follow their ids and come before any other inflow there) ...
receipt_costs as (
    select
        site_id,
        material_id,
        received_at,
        {{ value_at_max('cast(unit_cost as decimal(38, 8))', 'receipt_id') }} as unit_cost
    from receipts
    where unit_cost is not null
    group by site_id, material_id, received_at
),

-- ... and the material's first receipt, for an inflow that comes before all of them
first_receipt_costs as (
    select site_id, material_id, unit_cost
    from (
        select
            site_id,
            material_id,
            cast(unit_cost as decimal(38, 8)) as unit_cost,
            row_number() over (
                partition by site_id, material_id order by received_at, receipt_id
            ) as receipt_no
        from receipts
        where unit_cost is not null
    ) as ranked
    where receipt_no = 1
),

uncosted_inflows as (
    select
        site_id,
        material_id,
        movement_id,
        moved_at
    from movements
    where kind in ('return_from_customer', 'adjustment_in') and unit_cost is null
),

-- the last receipt at or before each such inflow: receipts and inflows in time order (a receipt
-- first at the same instant), each inflow in the run of the receipt before it
receipts_and_inflows as (
    select site_id, material_id, received_at as event_at, 0 as event_order, unit_cost,
        cast(null as varchar) as movement_id
    from receipt_costs
    union all
    select site_id, material_id, moved_at as event_at, 1 as event_order, null as unit_cost,
        movement_id
    from uncosted_inflows
    where moved_at is not null
),

receipt_runs as (
    select
        *,
        count(unit_cost) over (
            partition by site_id, material_id order by event_at, event_order
            rows between unbounded preceding and current row
        ) as receipt_run
    from receipts_and_inflows
),

last_receipt_costs as (
    select
        site_id,
        movement_id,
        event_order,
        max(unit_cost) over (partition by site_id, material_id, receipt_run)
            as last_receipt_unit_cost
    from receipt_runs
),

inflow_receipt_costs as (
    select
        uncosted_inflows.site_id,
        uncosted_inflows.movement_id,
        last_receipt.last_receipt_unit_cost,
        first_receipt.unit_cost as first_receipt_unit_cost
    from uncosted_inflows
    left join last_receipt_costs as last_receipt
        on uncosted_inflows.site_id = last_receipt.site_id
        and uncosted_inflows.movement_id = last_receipt.movement_id
        and last_receipt.event_order = 1
    left join first_receipt_costs as first_receipt
        on uncosted_inflows.site_id = first_receipt.site_id
        and uncosted_inflows.material_id = first_receipt.material_id
),

entries as (
    select
        site_id,
        material_id,
        receipt_id as entry_id,
        'receipt' as entry_kind,
        'in' as direction,
        1 as source_order,
        received_at as entry_at,
        lot_id as layer_id,
        lot_id as recorded_lot_id,
        cast(qty as decimal(18, 6)) as qty,
        cast(unit_cost as decimal(38, 8)) as given_unit_cost,
        supplier_id,
        expiry_date,
        cast(null as varchar) as batch_id,
        cast(null as varchar) as job_id,
        cast(null as varchar) as reason
    from receipts
    union all
    select
        site_id,
        material_id,
        movement_id as entry_id,
        kind as entry_kind,
        case
            when kind in ('return_from_customer', 'adjustment_in') then 'in' else 'out'
        end as direction,
        case when kind in ('return_from_customer', 'adjustment_in') then 2 else 3 end
            as source_order,
        moved_at as entry_at,
        case
            when kind in ('return_from_customer', 'adjustment_in') then movement_id
        end as layer_id,
        lot_id as recorded_lot_id,
        cast(qty as decimal(18, 6)) as qty,
        case
            when kind in ('return_from_customer', 'adjustment_in')
                then cast(unit_cost as decimal(38, 8))
        end as given_unit_cost,
        cast(null as varchar) as supplier_id,
        cast(null as date) as expiry_date,
        batch_id,
        job_id,
        reason
    from movements
    where kind in (
        'issue', 'return_to_vendor', 'return_from_customer',
        'adjustment_in', 'adjustment_out', 'waste'
    )
),

ordered as (
    -- one window (partition and order) for every running figure: a single sort of the ledger
    select
        entries.*,
        row_number() over material_ledger as ledger_seq,
        sum(case when direction = 'in' then qty else 0 end) over (
            material_ledger rows between unbounded preceding and current row
        ) as inflow_end,
        sum(case when direction = 'out' then qty else 0 end) over (
            material_ledger rows between unbounded preceding and current row
        ) as outflow_end
    from entries
    window material_ledger as (
        partition by site_id, material_id
        order by entry_at, source_order, entry_id
    )
),

costed as (
    select
        ordered.*,
        inflow_receipt_costs.last_receipt_unit_cost,
        -- with no receipt before an entry, the first receipt after it is the material's first
        inflow_receipt_costs.first_receipt_unit_cost,
        case
            when direction = 'out' then null
            when given_unit_cost is not null then given_unit_cost
            when last_receipt_unit_cost is not null then last_receipt_unit_cost
            else first_receipt_unit_cost
        end as unit_cost,
        case
            when direction = 'out' then null
            when entry_kind = 'receipt' then 'receipt'
            when given_unit_cost is not null then 'given'
            when last_receipt_unit_cost is not null then 'last_receipt'
            when first_receipt_unit_cost is not null then 'next_receipt'
        end as unit_cost_source,
        case when direction = 'in' then inflow_end else outflow_end end as range_end
    from ordered
    left join inflow_receipt_costs
        on ordered.source_order = 2
        and ordered.site_id = inflow_receipt_costs.site_id
        and ordered.entry_id = inflow_receipt_costs.movement_id
),

final as (
    select
        costed.site_id,
        costed.material_id,
        costed.entry_id,
        costed.entry_kind,
        costed.direction,
        costed.entry_at,
        cast(
            {{ utc_to_local('costed.entry_at', "coalesce(sites.timezone, 'UTC')") }} as date
        ) as local_day,
        costed.source_order,
        costed.ledger_seq,
        costed.qty,
        case when costed.direction = 'in' then costed.qty else -costed.qty end as signed_qty,
        costed.range_end - costed.qty as range_start,
        costed.range_end,
        costed.layer_id,
        costed.recorded_lot_id,
        costed.unit_cost,
        costed.unit_cost_source,
        costed.supplier_id,
        -- a receipt without an expiry date keeps the material's shelf life from its local day
        coalesce(
            costed.expiry_date,
            case
                when costed.entry_kind = 'receipt'
                    then cast(
                        {{ utc_to_local('costed.entry_at', "coalesce(sites.timezone, 'UTC')") }}
                        as date
                    ) + materials.shelf_life_days
            end
        ) as expiry_date,
        costed.batch_id,
        costed.job_id,
        costed.reason
    from costed
    left join sites
        on costed.site_id = sites.site_id
    left join materials
        on costed.site_id = materials.site_id
        and costed.material_id = materials.material_id
)

select * from final
