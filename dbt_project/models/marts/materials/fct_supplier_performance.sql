{#- Supplier delivery and price performance per site-local month. Orders count in the month of
    their promised date once due (promised on or before the site's as-of day) or delivered:
    on time = every receipt of the order arrived on or before the promised date; in full =
    received >= ordered x (1 - OTIF tolerance); OTIF % = orders both on time and in full / all
    orders (not on-time % x in-full %). Price variance = the receipts of the month
    (fct_material_prices). -#}
with

orders as (
    select * from {{ ref('stg_materials__purchase_orders') }}
),

prices as (
    select * from {{ ref('fct_material_prices') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

deliveries as (
    select
        site_id,
        po_id,
        count(*) as receipts,
        sum(qty) as received_qty,
        max(received_day) as last_received_day
    from prices
    where po_id is not null
    group by site_id, po_id
),

order_status as (
    select
        orders.site_id,
        orders.supplier_id,
        orders.po_id,
        {{ month_start('orders.promised_date') }} as month,
        deliveries.po_id is not null as is_delivered,
        coalesce(deliveries.last_received_day <= orders.promised_date, false) as is_on_time,
        coalesce(
            -- received >= ordered x (1 - tolerance / 100), scaled by 100: no float rounding
            deliveries.received_qty * 100
            >= cast(orders.qty as decimal(18, 6)) * (100 - sites.otif_tolerance_pct),
            false
        ) as is_in_full,
        orders.promised_date <= sites.as_of_day as is_due
    from orders
    inner join sites
        on orders.site_id = sites.site_id
    left join deliveries
        on orders.site_id = deliveries.site_id
        and orders.po_id = deliveries.po_id
),

order_months as (
    select
        site_id,
        supplier_id,
        month,
        {{ count_where('is_due or is_delivered') }} as orders,
        {{ count_where('(is_due or is_delivered) and is_on_time') }} as orders_on_time,
        {{ count_where('(is_due or is_delivered) and is_in_full') }} as orders_in_full,
        {{ count_where('(is_due or is_delivered) and is_on_time and is_in_full') }}
            as orders_otif,
        {{ count_where('not is_due and not is_delivered') }} as orders_open
    from order_status
    group by site_id, supplier_id, month
),

price_months as (
    select
        site_id,
        supplier_id,
        month,
        count(*) as receipts,
        sum(cost) as received_value,
        sum(purchase_price_variance) as purchase_price_variance,
        sum(po_price_variance) as po_price_variance
    from prices
    where supplier_id is not null
    group by site_id, supplier_id, month
),

final as (
    select
        coalesce(order_months.site_id, price_months.site_id) as site_id,
        coalesce(order_months.supplier_id, price_months.supplier_id) as supplier_id,
        coalesce(order_months.month, price_months.month) as month,
        coalesce(order_months.orders, 0) as orders,
        coalesce(order_months.orders_on_time, 0) as orders_on_time,
        coalesce(order_months.orders_in_full, 0) as orders_in_full,
        coalesce(order_months.orders_otif, 0) as orders_otif,
        coalesce(order_months.orders_open, 0) as orders_open,
        {{ safe_divide('100.0 * order_months.orders_otif', 'order_months.orders') }} as otif_pct,
        {{ safe_divide('100.0 * order_months.orders_on_time', 'order_months.orders') }}
            as on_time_pct,
        {{ safe_divide('100.0 * order_months.orders_in_full', 'order_months.orders') }}
            as in_full_pct,
        coalesce(price_months.receipts, 0) as receipts,
        coalesce(price_months.received_value, 0) as received_value,
        coalesce(price_months.purchase_price_variance, 0) as purchase_price_variance,
        coalesce(price_months.po_price_variance, 0) as po_price_variance
    from order_months
    full outer join price_months
        on order_months.site_id = price_months.site_id
        and order_months.supplier_id = price_months.supplier_id
        and order_months.month = price_months.month
)

select * from final
