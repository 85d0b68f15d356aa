{#- Every voucher (its latest delivered definition) with its redemptions: purchases using it,
    distinct customers, total discount (amount - final amount) and the uses left of its total
    limit (null = unlimited). A code used but never defined is listed with its redemptions. -#}
with

vouchers as (
    select * from {{ ref('stg_metering__vouchers') }}
    qualify row_number() over (
        partition by site_id, voucher_code order by loaded_at desc, source_row desc
    ) = 1
),

redemptions as (
    select
        site_id,
        voucher_code,
        cast(count(*) as integer) as redemptions,
        cast(count(distinct customer_id) as integer) as customers,
        sum(amount - final_amount) as total_discount
    from {{ ref('fct_voucher_redemptions') }}
    group by site_id, voucher_code
),

codes as (
    select site_id, voucher_code from vouchers
    union
    select site_id, voucher_code from redemptions
),

final as (
    select
        codes.site_id,
        codes.voucher_code,
        vouchers.discount_type,
        vouchers.value,
        coalesce(redemptions.redemptions, 0) as redemptions,
        coalesce(redemptions.customers, 0) as customers,
        coalesce(redemptions.total_discount, 0) as total_discount,
        vouchers.total_limit,
        greatest(vouchers.total_limit - coalesce(redemptions.redemptions, 0), 0)
            as remaining_uses,
        vouchers.valid_from,
        vouchers.valid_until
    from codes
    left join vouchers
        on codes.site_id = vouchers.site_id
        and codes.voucher_code = vouchers.voucher_code
    left join redemptions
        on codes.site_id = redemptions.site_id
        and codes.voucher_code = redemptions.voucher_code
)

select * from final
