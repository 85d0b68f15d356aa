{#- The water balance of every store and task per reporting period (site-local month, financial
    quarter, financial year), from the monthly node balance: sums of the months, storage from the
    first month's opening to the last month's closing, the error's % and status recomputed from
    the sums against the last month's threshold. -#}
with

monthly as (
    select * from {{ ref('fct_node_balance_monthly') }}
),

sites as (
    select * from {{ ref('dim_sites') }}
),

months as (
    select
        monthly.*,
        {{ fy_start('monthly.month_start', 'sites.financial_year_start_month') }} as fy_start,
        {{ fy_quarter('monthly.month_start', 'sites.financial_year_start_month') }} as fy_quarter,
        {{ fy_quarter_start('monthly.month_start', 'sites.financial_year_start_month') }}
            as quarter_start
    from monthly
    inner join sites
        on monthly.site_id = sites.site_id
),

month_periods as (
    {{ expand_months_to_periods('months') }}
),

periods as (
    select
        site_id,
        node_id,
        node_kind,
        period_kind,
        period_key,
        period_start,
        max(period_months) as period_months,
        count(*) as n_months,
        cast(sum(n_days) as bigint) as n_days,
        cast(sum(n_days_incomplete) as bigint) as n_days_incomplete,
        {{ value_at_first('opening_storage_m3', 'month_start') }} as opening_storage_m3,
        {{ value_at_last('closing_storage_m3', 'month_start') }} as closing_storage_m3,
        {{ sum_all_known('storage_change_m3') }} as storage_change_m3,
        sum(inflow_m3) as inflow_m3,
        sum(outflow_m3) as outflow_m3,
        sum(rainfall_m3) as rainfall_m3,
        sum(evaporation_m3) as evaporation_m3,
        sum(seepage_m3) as seepage_m3,
        {{ value_at_last('balance_threshold_pct', 'month_start') }} as balance_threshold_pct
    from month_periods
    group by site_id, node_id, node_kind, period_kind, period_key, period_start
),

errors as (
    select
        periods.*,
        {{ period_end('period_start', 'period_months') }} as period_end,
        {{ node_balance_error() }}
    from periods
),

final as (
    select
        site_id,
        node_id,
        node_kind,
        period_kind,
        period_key,
        period_start,
        period_end,
        n_months,
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
