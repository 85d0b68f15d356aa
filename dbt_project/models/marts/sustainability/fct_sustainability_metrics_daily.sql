{#- Each sustainability metric per site and day with its 30- and 90-day trailing values (ratios
    of the window's sums over calendar days, gaps included), the change of the 30-day value
    against the 30 days before, and the score the site's index gives the 30-day value. -#}
with

metrics as (
    select * from {{ ref('int_sustainability_metrics_daily') }}
),

catalogue as (
    select * from {{ ref('stg_site_config__sustainability_metrics') }}
),

components as (
    select * from {{ ref('stg_site_config__sustainability_components') }}
),

numbered as (
    select
        metrics.*,
        {{ day_number('day') }} as day_number
    from metrics
),

{%- set series = 'partition by site_id, metric order by day_number' %}

windows as (
    select
        numbered.*,
        {% for n in [30, 90] -%}
        sum(numerator) over (
            {{ series }} range between {{ n - 1 }} preceding and current row
        ) as numerator_{{ n }}d,
        sum(denominator) over (
            {{ series }} range between {{ n - 1 }} preceding and current row
        ) as denominator_{{ n }}d,
        count(numerator) over (
            {{ series }} range between {{ n - 1 }} preceding and current row
        ) as n_days_{{ n }}d,
        {% endfor -%}
        sum(numerator) over (
            {{ series }} range between 59 preceding and 30 preceding
        ) as previous_numerator_30d,
        sum(denominator) over (
            {{ series }} range between 59 preceding and 30 preceding
        ) as previous_denominator_30d
    from numbered
),

valued as (
    select
        windows.site_id,
        windows.metric,
        windows.day,
        windows.numerator,
        windows.denominator,
        {{ safe_divide('windows.numerator', 'windows.denominator') }} as value,
        {{ safe_divide('windows.numerator_30d', 'windows.denominator_30d') }} as value_30d,
        windows.n_days_30d,
        {{ safe_divide('windows.numerator_90d', 'windows.denominator_90d') }} as value_90d,
        windows.n_days_90d,
        {{ safe_divide('windows.previous_numerator_30d', 'windows.previous_denominator_30d') }}
            as previous_value_30d
    from windows
),

final as (
    select
        valued.site_id,
        valued.metric,
        valued.day,
        catalogue.unit,
        catalogue.lower_is_better,
        valued.numerator,
        valued.denominator,
        valued.value,
        valued.value_30d,
        valued.n_days_30d,
        valued.value_90d,
        valued.n_days_90d,
        valued.previous_value_30d,
        {{ safe_divide(
            '100.0 * (valued.value_30d - valued.previous_value_30d)', 'abs(valued.previous_value_30d)'
        ) }} as change_30d_pct,
        components.weight,
        components.best_value,
        components.worst_value,
        {{ sustainability_score(
            'valued.value_30d', 'components.best_value', 'components.worst_value'
        ) }} as score_30d
    from valued
    inner join catalogue
        on valued.metric = catalogue.metric
    left join components
        on valued.site_id = components.site_id
        and valued.metric = components.metric
)

select * from final
