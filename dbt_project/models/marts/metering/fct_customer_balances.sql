{#- The latest ledger day of every customer (fct_customer_ledger_daily): its balance, status,
    days of credit left and threshold, with the instant of its last credit purchase. -#}
with

ledger as (
    select * from {{ ref('fct_customer_ledger_daily') }}
),

last_purchases as (
    select
        site_id,
        customer_id,
        max(paid_at) as last_purchase_at
    from {{ ref('int_metering_purchases') }}
    group by site_id, customer_id
),

-- a hash aggregate of three columns, then a join: no sort of the whole ledger
latest_days as (
    select
        site_id,
        customer_id,
        max(day) as day
    from ledger
    group by site_id, customer_id
),

latest as (
    select ledger.*
    from ledger
    inner join latest_days
        on ledger.site_id = latest_days.site_id
        and ledger.customer_id = latest_days.customer_id
        and ledger.day = latest_days.day
),

final as (
    select
        latest.site_id,
        latest.customer_id,
        latest.day as as_of_day,
        latest.closing_balance as balance,
        latest.balance_status,
        latest.days_of_credit_left,
        latest.low_balance_threshold,
        last_purchases.last_purchase_at
    from latest
    left join last_purchases
        on latest.site_id = last_purchases.site_id
        and latest.customer_id = last_purchases.customer_id
)

select * from final
