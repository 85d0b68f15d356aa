{#- The prepaid revenue of each site and site-local month, from the customer ledger:
    collections (final amounts paid), credit sold and voucher cost; earned revenue = consumption
    + fixed charges; deferred revenue (the liability of unused credit) = the sum of positive
    balances at the month's first opening and last closing; emergency debt = the sum of
    negative balances at the month's last day; active customers = customers active on some day
    of the month. -#}
with

ledger as (
    select * from {{ ref('fct_customer_ledger_daily') }}
),

customer_months as (
    select
        site_id,
        customer_id,
        month,
        sum(paid) as collections,
        sum(credit_purchased) as credit_sold,
        sum(voucher_discount) as voucher_cost,
        sum(consumption_charge) as earned_consumption,
        sum(fixed_charge) as earned_fixed,
        sum(consumption_m3) as consumption_m3,
        {{ value_at_min('opening_balance', 'day') }} as opening_balance,
        {{ value_at_max('closing_balance', 'day') }} as closing_balance,
        bool_or(active) as active
    from ledger
    group by site_id, customer_id, month
),

final as (
    select
        site_id,
        month,
        sum(collections) as collections,
        sum(credit_sold) as credit_sold,
        sum(voucher_cost) as voucher_cost,
        sum(earned_consumption) as earned_consumption,
        sum(earned_fixed) as earned_fixed,
        sum(earned_consumption + earned_fixed) as earned_revenue,
        sum(greatest(opening_balance, 0)) as deferred_revenue_opening,
        sum(greatest(closing_balance, 0)) as deferred_revenue_closing,
        sum(-least(closing_balance, 0)) as emergency_debt_closing,
        sum(consumption_m3) as consumption_m3,
        cast(count(*) filter (where active) as integer) as active_customers
    from customer_months
    group by site_id, month
)

select * from final
