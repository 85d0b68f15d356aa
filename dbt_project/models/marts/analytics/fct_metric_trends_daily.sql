{#- Trailing means of every daily metric over 7, 30 and 90 days, the change of the 30-day mean
    against the 30 days before, and the same day a year earlier. Windows are calendar days ending
    on (and including) the row's day: a day without a value is left out of the mean, and the
    n_days_* columns say how many days each mean rests on. -#}
with

metrics as (
    select * from {{ ref('fct_metric_daily') }}
),

numbered as (
    select
        metrics.*,
        -- days since the epoch: range frames over calendar days, gaps included
        {{ day_number('day') }} as day_number
    from metrics
),

{%- set series = 'partition by site_id, scope, scope_id, metric order by day_number' %}

windows as (
    select
        numbered.*,
        {% for n in [7, 30, 90] -%}
        avg(value) over (
            {{ series }} range between {{ n - 1 }} preceding and current row
        ) as mean_{{ n }}d,
        count(value) over (
            {{ series }} range between {{ n - 1 }} preceding and current row
        ) as n_days_{{ n }}d,
        {% endfor -%}
        avg(value) over (
            {{ series }} range between 59 preceding and 30 preceding
        ) as previous_mean_30d,
        count(value) over (
            {{ series }} range between 59 preceding and 30 preceding
        ) as previous_n_days_30d
    from numbered
),

final as (
    select
        windows.site_id,
        windows.scope,
        windows.scope_id,
        windows.metric,
        windows.day,
        windows.value,
        windows.unit,
        windows.aggregation,
        windows.is_day_closed,
        windows.is_estimated,
        windows.mean_7d,
        windows.n_days_7d,
        windows.mean_30d,
        windows.n_days_30d,
        windows.mean_90d,
        windows.n_days_90d,
        windows.previous_mean_30d,
        windows.previous_n_days_30d,
        100.0 * {{ safe_divide('windows.mean_30d - windows.previous_mean_30d',
            'windows.previous_mean_30d') }} as change_30d_pct,
        last_year.value as yoy_day_value,
        100.0 * {{ safe_divide('windows.value - last_year.value', 'last_year.value') }}
            as yoy_change_pct
    from windows
    left join metrics as last_year
        on windows.site_id = last_year.site_id
        and windows.scope = last_year.scope
        and windows.scope_id = last_year.scope_id
        and windows.metric = last_year.metric
        and last_year.day = cast({{ dbt.dateadd('year', -1, 'windows.day') }} as date)
)

select * from final
