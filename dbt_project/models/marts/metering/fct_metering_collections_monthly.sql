{#- Money collected per site-local month (by day paid), customer segment (its current one),
    payment method and provider ('none' when the purchase names none): purchases, credit sold
    (amount), collections (final amount paid) and voucher cost (amount - final amount). -#}
with

purchases as (
    select * from {{ ref('int_metering_purchases') }}
),

customers as (
    select
        site_id,
        customer_id,
        segment
    from {{ ref('dim_metering_customers') }}
),

final as (
    select
        purchases.site_id,
        {{ month_start('purchases.day') }} as month,
        coalesce(customers.segment, 'unknown') as segment,
        coalesce(purchases.payment_method, 'unknown') as payment_method,
        coalesce(purchases.provider, 'none') as provider,
        cast(count(*) as integer) as purchases,
        sum(purchases.amount) as credit_sold,
        sum(purchases.final_amount) as collections,
        sum(purchases.amount - purchases.final_amount) as voucher_cost
    from purchases
    left join customers
        on purchases.site_id = customers.site_id
        and purchases.customer_id = customers.customer_id
    group by all
)

select * from final
