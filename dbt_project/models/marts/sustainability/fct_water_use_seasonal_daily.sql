{#- Water withdrawn per site and closed day against the season's norm: the 7-day trailing mean of
    the site's inputs beside the mean of the days within 15 calendar days of the same date in up
    to five earlier years. A spike for the season is the week running well above what the same
    weeks ran in earlier years; wet and dry seasons are in the norm, not in the alarm. -#}
{%- set norm_years = 5 %}
{%- set half_window_days = 15 %}
with

daily as (
    select
        site_id,
        day,
        value as inputs_m3
    from {{ ref('fct_metric_daily') }}
    where scope = 'site' and metric = 'inputs_m3' and is_day_closed
),

numbered as (
    select
        daily.*,
        {{ day_number('day') }} as day_number
    from daily
),

recent as (
    select
        site_id,
        day,
        inputs_m3,
        avg(inputs_m3) over (
            partition by site_id order by day_number range between 6 preceding and current row
        ) as inputs_7d_mean_m3,
        count(inputs_m3) over (
            partition by site_id order by day_number range between 6 preceding and current row
        ) as n_days_7d
    from numbered
),

norm as (
    select
        current_day.site_id,
        current_day.day,
        avg(earlier.inputs_m3) as seasonal_norm_m3,
        count(earlier.inputs_m3) as n_norm_days,
        count(distinct {{ dbt.date_trunc('year', 'earlier.day') }}) as n_norm_years
    from daily as current_day
    inner join daily as earlier
        on current_day.site_id = earlier.site_id
        and (
            {%- for years in range(1, norm_years + 1) %}
            {% if not loop.first %}or {% endif -%}
            earlier.day between
            {{ add_days(dbt.dateadd('year', -years, 'current_day.day'), -half_window_days) }}
            and {{ add_days(dbt.dateadd('year', -years, 'current_day.day'), half_window_days) }}
            {%- endfor %}
        )
    group by current_day.site_id, current_day.day
),

final as (
    select
        recent.site_id,
        recent.day,
        recent.inputs_m3,
        recent.inputs_7d_mean_m3,
        recent.n_days_7d,
        norm.seasonal_norm_m3,
        coalesce(norm.n_norm_days, 0) as n_norm_days,
        coalesce(norm.n_norm_years, 0) as n_norm_years,
        {{ safe_divide(
            '100.0 * (recent.inputs_7d_mean_m3 - norm.seasonal_norm_m3)', 'norm.seasonal_norm_m3'
        ) }} as above_norm_pct
    from recent
    left join norm
        on recent.site_id = norm.site_id
        and recent.day = norm.day
)

select * from final
