{#- Every purchase that used a voucher code, with its site-local day. -#}
with

purchases as (
    select * from {{ ref('int_metering_purchases') }}
    where voucher_code is not null
),

final as (
    select
        site_id,
        voucher_code,
        purchase_id,
        customer_id,
        paid_at,
        day,
        amount,
        discount,
        final_amount
    from purchases
)

select * from final
