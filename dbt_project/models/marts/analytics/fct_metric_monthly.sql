{#- Every daily metric rolled up to calendar months (site-local) by its aggregation: summed,
    averaged over the days with a value, or the value of the month's last day with one; with the
    change against the month before and the same month a year earlier. -#}
with

metrics as (
    select * from {{ ref('fct_metric_daily') }}
),

months as (
    select
        site_id,
        scope,
        scope_id,
        metric,
        {{ month_start('day') }} as month_start,
        unit,
        aggregation,
        case
            when aggregation = 'sum' then sum(value)
            when aggregation = 'mean' then avg(value)
            when aggregation = 'last' then {{ value_at_last('value', 'day') }}
            when aggregation = 'max' then max(value)
        end as value,
        count(*) as n_days,
        {{ count_where('is_estimated') }} as n_days_estimated,
        {{ count_where('is_day_closed') }} = count(*) as is_month_closed,
        min(day) as first_day,
        max(day) as last_day
    from metrics
    group by site_id, scope, scope_id, metric, {{ month_start('day') }}, unit, aggregation
),

final as (
    select
        months.site_id,
        months.scope,
        months.scope_id,
        months.metric,
        months.month_start,
        months.value,
        months.unit,
        months.aggregation,
        months.n_days,
        {{ days_in_month('months.month_start') }} as days_in_month,
        months.n_days_estimated,
        months.is_month_closed,
        months.first_day,
        months.last_day,
        previous_month.value as previous_month_value,
        100.0 * {{ safe_divide('months.value - previous_month.value', 'previous_month.value') }}
            as mom_change_pct,
        last_year.value as previous_year_value,
        100.0 * {{ safe_divide('months.value - last_year.value', 'last_year.value') }}
            as yoy_change_pct
    from months
    left join months as previous_month
        on months.site_id = previous_month.site_id
        and months.scope = previous_month.scope
        and months.scope_id = previous_month.scope_id
        and months.metric = previous_month.metric
        and previous_month.month_start
        = cast({{ dbt.dateadd('month', -1, 'months.month_start') }} as date)
    left join months as last_year
        on months.site_id = last_year.site_id
        and months.scope = last_year.scope
        and months.scope_id = last_year.scope_id
        and months.metric = last_year.metric
        and last_year.month_start
        = cast({{ dbt.dateadd('year', -1, 'months.month_start') }} as date)
)

select * from final
