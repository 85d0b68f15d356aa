{#- Credit purchases, one row per purchase (a purchase delivered twice counts once, the last
    loaded copy), with the site-local day paid. -#}
with

purchases as (
    select * from {{ ref('stg_metering__purchases') }}
    qualify row_number() over (
        partition by site_id, purchase_id order by loaded_at desc, source_row desc
    ) = 1
),

settings as (
    select
        site_id,
        timezone
    from {{ ref('int_metering_settings') }}
),

final as (
    select
        purchases.site_id,
        purchases.purchase_id,
        purchases.customer_id,
        purchases.meter_id,
        purchases.paid_at,
        cast({{ utc_to_local('purchases.paid_at', 'settings.timezone') }} as date) as day,
        purchases.amount,
        purchases.voucher_code,
        coalesce(purchases.discount, 0) as discount,
        purchases.final_amount,
        purchases.payment_method,
        purchases.provider,
        purchases.token_id
    from purchases
    inner join settings
        on purchases.site_id = settings.site_id
)

select * from final
