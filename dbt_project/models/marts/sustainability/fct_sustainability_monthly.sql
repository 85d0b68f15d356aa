{#- Each sustainability metric per site and calendar month: the ratio of the month's sums, the
    month before, the same month a year earlier, and the month's component score. -#}
with

metrics as (
    select * from {{ ref('fct_sustainability_metrics_daily') }}
),

monthly as (
    select
        site_id,
        metric,
        cast(date_trunc('month', day) as date) as month_start,
        max(unit) as unit,
        max(lower_is_better) as lower_is_better,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(numerator) as n_days,
        max(weight) as weight,
        max(best_value) as best_value,
        max(worst_value) as worst_value
    from metrics
    group by site_id, metric, cast(date_trunc('month', day) as date)
),

valued as (
    select
        monthly.*,
        {{ safe_divide('numerator', 'denominator') }} as value
    from monthly
),

final as (
    select
        valued.site_id,
        valued.metric,
        valued.month_start,
        valued.unit,
        valued.lower_is_better,
        valued.numerator,
        valued.denominator,
        valued.n_days,
        valued.value,
        previous.value as previous_month_value,
        {{ safe_divide(
            '100.0 * (valued.value - previous.value)', 'abs(previous.value)') }}
            as mom_change_pct,
        last_year.value as same_month_last_year_value,
        {{ safe_divide(
            '100.0 * (valued.value - last_year.value)', 'abs(last_year.value)') }}
            as yoy_change_pct,
        valued.weight,
        {{ sustainability_score(
            'valued.value', 'valued.best_value', 'valued.worst_value'
        ) }} as score
    from valued
    left join valued as previous
        on valued.site_id = previous.site_id
        and valued.metric = previous.metric
        and previous.month_start = {{ dbt.dateadd('month', -1, 'valued.month_start') }}
    left join valued as last_year
        on valued.site_id = last_year.site_id
        and valued.metric = last_year.metric
        and last_year.month_start = {{ dbt.dateadd('year', -1, 'valued.month_start') }}
)

select * from final
