{#- Each customer's calendar month (site-local) from the ledger: volume, charge (consumption +
    fixed charges), the previous month and the same month a year earlier with their changes in
    %, and litres per person per day (volume / household size / the month's ledger days). -#}
with

ledger as (
    select * from {{ ref('fct_customer_ledger_daily') }}
),

monthly as (
    select
        site_id,
        customer_id,
        month,
        {{ value_at_max('segment', 'day') }} as segment,
        {{ value_at_max('household_size', 'day') }} as household_size,
        count(*) as ledger_days,
        sum(consumption_m3) as volume_m3,
        sum(consumption_charge + fixed_charge) as charge
    from ledger
    group by site_id, customer_id, month
),

compared as (
    select
        monthly.*,
        previous.volume_m3 as prev_month_m3,
        last_year.volume_m3 as same_month_last_year_m3
    from monthly
    left join monthly as previous
        on monthly.site_id = previous.site_id
        and monthly.customer_id = previous.customer_id
        and previous.month = cast(monthly.month - interval '1 month' as date)
    left join monthly as last_year
        on monthly.site_id = last_year.site_id
        and monthly.customer_id = last_year.customer_id
        and last_year.month = cast(monthly.month - interval '12 month' as date)
),

final as (
    select
        site_id,
        customer_id,
        segment,
        month,
        volume_m3,
        charge,
        prev_month_m3,
        100.0 * (volume_m3 - prev_month_m3) / nullif(prev_month_m3, 0) as mom_change_pct,
        same_month_last_year_m3,
        100.0 * (volume_m3 - same_month_last_year_m3) / nullif(same_month_last_year_m3, 0)
            as yoy_change_pct,
        1000.0 * volume_m3 / nullif(household_size, 0) / ledger_days as per_capita_l_per_day
    from compared
)

select * from final
