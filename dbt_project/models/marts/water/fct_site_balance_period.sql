{#- The site water balance per reporting period: each site-local calendar month, financial
    quarter and financial year (the organisation's first month, from dim_sites), from the monthly
    balance. Volumes are sums of the months; storage runs from the first month's opening to the
    last month's closing and its change is the sum of the months' changes, so the closure error
    is the sum of the months' errors; ratios, closure % and status are recomputed from the sums
    by the same macro as the daily and monthly marts. -#}
with

monthly as (
    select * from {{ ref('fct_site_balance_monthly') }}
),

sites as (
    select * from {{ ref('dim_sites') }}
),

months as (
    select
        monthly.*,
        sites.financial_year_start_month,
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
        period_kind,
        period_start,
        period_key,
        {{ fy_name('fy_start') }} as financial_year,
        case when period_kind = 'year' then null else max(fy_quarter) end as financial_quarter,
        max(financial_year_start_month) as financial_year_start_month,
        max(period_months) as period_months,
        count(*) as n_months,
        min(first_day) as first_day,
        max(last_day) as last_day,
        cast(sum(n_days) as bigint) as n_days,
        cast(sum(n_days_incomplete) as bigint) as n_days_incomplete,
        sum(inputs_m3) as inputs_m3,
        {% for category in waf_input_sources() -%}
        sum(input_{{ category }}_m3) as input_{{ category }}_m3,
        {% endfor -%}
        sum(outputs_m3) as outputs_m3,
        {% for category in waf_output_destinations() -%}
        sum(output_{{ category }}_m3) as output_{{ category }}_m3,
        {% endfor -%}
        sum(diversions_m3) as diversions_m3,
        {{ value_at_first('opening_storage_m3', 'month_start') }} as opening_storage_m3,
        {{ value_at_last('closing_storage_m3', 'month_start') }} as closing_storage_m3,
        {{ sum_all_known('storage_change_m3') }} as storage_change_m3,
        {{ value_at_last('closure_threshold_pct', 'month_start') }} as closure_threshold_pct,
        sum(task_feed_m3) as task_feed_m3,
        sum(task_feed_raw_m3) as task_feed_raw_m3,
        sum(task_feed_worked_m3) as task_feed_worked_m3,
        sum(task_feed_treated_m3) as task_feed_treated_m3,
        sum(ore_feed_t) as ore_feed_t,
        {% for method in accounting_methods() -%}
        sum(input_{{ method }}_m3) as input_{{ method }}_m3,
        sum(output_{{ method }}_m3) as output_{{ method }}_m3,
        {% endfor -%}
        cast(sum(n_flows_missing) as bigint) as n_flows_missing
    from month_periods
    group by site_id, period_kind, period_start, period_key, fy_start
),

closure as (
    select
        periods.*,
        {{ period_end('period_start', 'period_months') }} as period_end,
        inputs_m3 - outputs_m3 - storage_change_m3 as closure_error_m3,
        100.0 * {{ safe_divide('inputs_m3 - outputs_m3 - storage_change_m3', 'inputs_m3') }}
            as closure_error_pct
    from periods
),

final as (
    select
        site_id,
        period_kind,
        period_key,
        period_start,
        period_end,
        financial_year,
        financial_quarter,
        financial_year_start_month,
        n_months,
        first_day,
        last_day,
        n_days,
        n_days_incomplete,
        first_day = period_start
        and last_day = period_end
        and n_days = {{ dbt.datediff('period_start', 'period_end', 'day') }} + 1 as is_complete,  -- noqa: LT05
        {{ site_balance_measures() }}
        n_flows_missing
    from closure
)

select * from final
