{#- Every FIFO layer (receipt lot, or a return from a customer or an adjustment in) with what is
    left of it after every outflow of its material: FIFO leaves the latest units, so a layer
    keeps greatest(0, range_end - greatest(range_start, total outflow)). Age and expiry are
    counted at the site's as-of day (int_material_sites). -#}
with

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

outflow_totals as (
    select
        site_id,
        material_id,
        sum(qty) as total_out
    from ledger
    where direction = 'out'
    group by site_id, material_id
),

receipt_lots as (
    select
        site_id,
        layer_id as lot_id,
        expiry_date
    from ledger
    where entry_kind = 'receipt'
),

layers as (
    select
        ledger.site_id,
        ledger.layer_id as lot_id,
        ledger.material_id,
        ledger.entry_kind as layer_kind,
        ledger.entry_id,
        ledger.supplier_id,
        ledger.recorded_lot_id,
        ledger.entry_at as received_at,
        ledger.local_day as received_day,
        -- a returned unit keeps the expiry of the lot it came back from, when the record names it
        coalesce(ledger.expiry_date, returned_from.expiry_date) as expiry_date,
        ledger.qty as received_qty,
        ledger.unit_cost,
        greatest(
            0,
            ledger.range_end
            - greatest(ledger.range_start, coalesce(outflow_totals.total_out, 0))
        ) as remaining_qty
    from ledger
    left join outflow_totals
        on ledger.site_id = outflow_totals.site_id
        and ledger.material_id = outflow_totals.material_id
    left join receipt_lots as returned_from
        on ledger.entry_kind != 'receipt'
        and ledger.site_id = returned_from.site_id
        and ledger.recorded_lot_id = returned_from.lot_id
    where ledger.direction = 'in'
),

aged as (
    select
        layers.*,
        sites.as_of_day,
        sites.expiry_alert_days,
        {{ add_days('sites.as_of_day', 'sites.expiry_alert_days') }} as alert_until,
        sites.as_of_day - layers.received_day as age_days,
        layers.expiry_date - sites.as_of_day as days_to_expiry
    from layers
    inner join sites
        on layers.site_id = sites.site_id
),

final as (
    select
        site_id,
        lot_id,
        material_id,
        layer_kind,
        supplier_id,
        recorded_lot_id,
        received_at,
        received_day,
        expiry_date,
        received_qty,
        received_qty - remaining_qty as consumed_qty,
        remaining_qty,
        unit_cost,
        remaining_qty * unit_cost as remaining_value,
        as_of_day,
        age_days,
        case
            when age_days <= 30 then '0_30'
            when age_days <= 60 then '31_60'
            when age_days <= 90 then '61_90'
            else 'over_90'
        end as ageing_bucket,
        days_to_expiry,
        coalesce(expiry_date <= as_of_day, false) as is_expired,
        coalesce(
            remaining_qty > 0 and expiry_date > as_of_day and expiry_date <= alert_until,
            false
        ) as expires_within_alert,
        expiry_alert_days
    from aged
)

select * from final
