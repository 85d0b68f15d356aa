{#- Each segment's (tariff group's) calendar month: customers with a ledger month in it, their
    volume and volume per customer, against the previous month and the same month a year
    earlier. -#}
with

customers as (
    select * from {{ ref('fct_customer_consumption_monthly') }}
),

monthly as (
    select
        site_id,
        coalesce(segment, 'unknown') as segment,
        month,
        cast(count(*) as integer) as customers,
        sum(volume_m3) as volume_m3
    from customers
    group by all
),

final as (
    select
        monthly.site_id,
        monthly.segment,
        monthly.month,
        monthly.customers,
        monthly.volume_m3,
        monthly.volume_m3 / nullif(monthly.customers, 0) as volume_per_customer_m3,
        previous.volume_m3 as prev_month_m3,
        100.0 * (monthly.volume_m3 - previous.volume_m3) / nullif(previous.volume_m3, 0)
            as mom_change_pct,
        last_year.volume_m3 as same_month_last_year_m3,
        100.0 * (monthly.volume_m3 - last_year.volume_m3) / nullif(last_year.volume_m3, 0)
            as yoy_change_pct
    from monthly
    left join monthly as previous
        on monthly.site_id = previous.site_id
        and monthly.segment = previous.segment
        and previous.month = cast(monthly.month - interval '1 month' as date)
    left join monthly as last_year
        on monthly.site_id = last_year.site_id
        and monthly.segment = last_year.segment
        and last_year.month = cast(monthly.month - interval '12 month' as date)
)

select * from final
