{#- The water balance of every store and task per calendar month (site-local). -#}
with

daily as (
    select * from {{ ref('fct_node_balance_daily') }}
),

months as (
    select
        site_id,
        node_id,
        node_kind,
        month_start,
        min(day) as first_day,
        max(day) as last_day,
        count(*) as n_days,
        {{ count_where('not is_complete') }} as n_days_incomplete,
        sum(inflow_m3) as inflow_m3,
        sum(outflow_m3) as outflow_m3,
        sum(rainfall_m3) as rainfall_m3,
        sum(evaporation_m3) as evaporation_m3,
        sum(seepage_m3) as seepage_m3,
        max(balance_threshold_pct) as balance_threshold_pct
    from daily
    group by site_id, node_id, node_kind, month_start
),

with_storage as (
    select
        months.*,
        first_day.opening_storage_m3,
        last_day.closing_storage_m3,
        case
            when months.node_kind = 'store'
                then last_day.closing_storage_m3 - first_day.opening_storage_m3
            else 0
        end as storage_change_m3
    from months
    inner join daily as first_day
        on months.site_id = first_day.site_id
        and months.node_id = first_day.node_id
        and months.first_day = first_day.day
    inner join daily as last_day
        on months.site_id = last_day.site_id
        and months.node_id = last_day.node_id
        and months.last_day = last_day.day
),

errors as (
    select
        with_storage.*,
        {{ node_balance_error() }}
    from with_storage
),

final as (
    select
        site_id,
        node_id,
        node_kind,
        month_start,
        first_day,
        last_day,
        n_days,
        n_days_incomplete,
        opening_storage_m3,
        closing_storage_m3,
        storage_change_m3,
        inflow_m3,
        outflow_m3,
        rainfall_m3,
        evaporation_m3,
        seepage_m3,
        balance_error_m3,
        balance_error_pct,
        balance_threshold_pct,
        {{ threshold_status('balance_error_pct', 'balance_threshold_pct') }} as balance_status
    from errors
)

select * from final
