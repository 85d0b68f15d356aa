{#- Each sustainability metric per site and reporting period: every calendar month, financial
    quarter and financial year (named as the reports name them, macros/financial_periods.sql).
    The value is the ratio of the period's sums; it is compared with the period before and the
    same period a year earlier, and scored like the daily values. -#}
with

metrics as (
    select * from {{ ref('fct_sustainability_metrics_daily') }}
),

sites as (
    select site_id, financial_year_start_month
    from {{ ref('dim_sites') }}
),

monthly as (
    select
        site_id,
        metric,
        cast({{ dbt.date_trunc('month', 'day') }} as date) as month_start,
        max(unit) as unit,
        max(lower_is_better) as lower_is_better,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(numerator) as n_days,
        min(day) as first_day,
        max(day) as last_day,
        max(weight) as weight,
        max(best_value) as best_value,
        max(worst_value) as worst_value
    from metrics
    group by site_id, metric, cast({{ dbt.date_trunc('month', 'day') }} as date)
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
        metric,
        period_kind,
        period_start,
        period_key,
        max(period_months) as period_months,
        count(*) as n_months,
        min(first_day) as first_day,
        max(last_day) as last_day,
        max(unit) as unit,
        max(lower_is_better) as lower_is_better,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        cast(sum(n_days) as bigint) as n_days,
        max(weight) as weight,
        max(best_value) as best_value,
        max(worst_value) as worst_value
    from month_periods
    group by site_id, metric, period_kind, period_start, period_key
),

valued as (
    select
        periods.*,
        {{ safe_divide('numerator', 'denominator') }} as value
    from periods
),

final as (
    select
        valued.site_id,
        valued.metric,
        valued.period_kind,
        valued.period_start,
        valued.period_key,
        valued.period_months,
        valued.n_months,
        valued.first_day,
        valued.last_day,
        valued.unit,
        valued.lower_is_better,
        valued.numerator,
        valued.denominator,
        valued.n_days,
        valued.value,
        previous.value as previous_period_value,
        {{ safe_divide(
            '100.0 * (valued.value - previous.value)', 'abs(previous.value)'
        ) }} as change_vs_previous_pct,
        last_year.value as same_period_last_year_value,
        {{ safe_divide(
            '100.0 * (valued.value - last_year.value)', 'abs(last_year.value)'
        ) }} as change_vs_last_year_pct,
        valued.weight,
        valued.best_value,
        valued.worst_value,
        {{ sustainability_score(
            'valued.value', 'valued.best_value', 'valued.worst_value'
        ) }} as score
    from valued
    left join valued as previous
        on valued.site_id = previous.site_id
        and valued.metric = previous.metric
        and valued.period_kind = previous.period_kind
        and previous.period_start = {{ dbt.dateadd(
            'month', '-valued.period_months', 'valued.period_start'
        ) }}
    left join valued as last_year
        on valued.site_id = last_year.site_id
        and valued.metric = last_year.metric
        and valued.period_kind = last_year.period_kind
        and last_year.period_start = {{ dbt.dateadd('month', -12, 'valued.period_start') }}
)

select * from final
