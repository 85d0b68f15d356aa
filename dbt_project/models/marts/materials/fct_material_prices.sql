{#- The price history of every material, one row per receipt: its unit cost against the
    material's previous receipt (any supplier), and the purchase price variance
    (unit cost - previous unit cost) x quantity; against the purchase order's price too when
    the receipt names its order. -#}
with

receipts as (
    select * from {{ ref('stg_materials__receipts') }}
),

orders as (
    select * from {{ ref('stg_materials__purchase_orders') }}
),

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

receipt_entries as (
    select
        ledger.site_id,
        ledger.material_id,
        ledger.entry_id as receipt_id,
        ledger.layer_id as lot_id,
        ledger.supplier_id,
        ledger.entry_at as received_at,
        ledger.local_day as received_day,
        ledger.qty,
        ledger.unit_cost,
        lag(ledger.unit_cost) over (
            partition by ledger.site_id, ledger.material_id
            order by ledger.entry_at, ledger.source_order, ledger.entry_id
        ) as previous_unit_cost,
        lag(ledger.supplier_id) over (
            partition by ledger.site_id, ledger.material_id
            order by ledger.entry_at, ledger.source_order, ledger.entry_id
        ) as previous_supplier_id
    from ledger
    where ledger.entry_kind = 'receipt'
),

final as (
    select
        receipt_entries.site_id,
        receipt_entries.material_id,
        receipt_entries.receipt_id,
        receipt_entries.lot_id,
        receipt_entries.supplier_id,
        receipt_entries.received_at,
        receipt_entries.received_day,
        {{ month_start('receipt_entries.received_day') }} as month,
        receipt_entries.qty,
        receipt_entries.unit_cost,
        receipt_entries.qty * receipt_entries.unit_cost as cost,
        receipt_entries.previous_unit_cost,
        receipt_entries.previous_supplier_id,
        {{ pct_change('receipt_entries.unit_cost', 'receipt_entries.previous_unit_cost') }}
            as price_change_pct,
        (receipt_entries.unit_cost - receipt_entries.previous_unit_cost)
        * receipt_entries.qty as purchase_price_variance,
        receipts.po_id,
        cast(orders.unit_price as decimal(38, 8)) as po_unit_price,
        (receipt_entries.unit_cost - cast(orders.unit_price as decimal(38, 8)))
        * receipt_entries.qty as po_price_variance,
        sites.price_rise_alert_pct,
        coalesce(
            {{ pct_change('receipt_entries.unit_cost', 'receipt_entries.previous_unit_cost') }}
            > sites.price_rise_alert_pct,
            false
        ) as is_price_rise_alert
    from receipt_entries
    inner join receipts
        on receipt_entries.site_id = receipts.site_id
        and receipt_entries.receipt_id = receipts.receipt_id
    left join orders
        on receipts.site_id = orders.site_id
        and receipts.po_id = orders.po_id
    left join sites
        on receipt_entries.site_id = sites.site_id
)

select * from final
