{#- Where each sustainability goal stands: its row of fct_sustainability_goals_daily on the last
    day with one, or a not_started row for a goal whose start lies after the data. -#}
with

goals as (
    select * from {{ ref('stg_site_config__sustainability_goals') }}
),

daily as (
    select * from {{ ref('fct_sustainability_goals_daily') }}
),

numbered as (
    select
        daily.*,
        row_number() over (partition by site_id, goal_id order by day desc) as recency
    from daily
),

latest as (
    select * from numbered
    where recency = 1
),

final as (
    select
        goals.site_id,
        goals.goal_id,
        goals.metric,
        goals.owner,
        goals.description,
        goals.start_day,
        goals.due_day,
        goals.target_value,
        latest.baseline_value,
        latest.day as as_of_day,
        latest.current_value,
        latest.progress_pct,
        latest.expected_pct,
        {{ dbt.datediff(
            'latest.day', 'goals.due_day', 'day'
        ) }} as days_left,
        coalesce(latest.status, 'not_started') as status
    from goals
    left join latest
        on goals.site_id = latest.site_id
        and goals.goal_id = latest.goal_id
)

select * from final
