{#- Progress of each sustainability goal on every day from the day it was set to its due day (or
    the last closed day): the 30-day value of its metric against the straight path from the
    baseline to the target.

    progress_pct = 100 * (baseline - current) / (baseline - target)
    expected_pct = 100 * (day - start_day) / (due_day - start_day)

    achieved: the current value meets the target; on_track: progress >= expected;
    at_risk: progress >= expected - at_risk_margin_pct; off_track: further behind;
    missed: not met on the due day. The baseline is the site file's, or else the 30-day value on
    the day before start_day. -#}
with

goals as (
    select * from {{ ref('stg_site_config__sustainability_goals') }}
),

settings as (
    select * from {{ ref('stg_site_config__sustainability_settings') }}
),

metrics as (
    select * from {{ ref('fct_sustainability_metrics_daily') }}
),

catalogue as (
    select * from {{ ref('stg_site_config__sustainability_metrics') }}
),

baselines as (
    select
        goals.site_id,
        goals.goal_id,
        coalesce(goals.declared_baseline_value, before_start.value_30d) as baseline_value,
        goals.declared_baseline_value is not null as is_baseline_declared
    from goals
    left join metrics as before_start
        on goals.site_id = before_start.site_id
        and goals.metric = before_start.metric
        and before_start.day = {{ dbt.dateadd('day', -1, 'goals.start_day') }}
),

goal_days as (
    select
        goals.*,
        metrics.day,
        metrics.value_30d as current_value,
        metrics.n_days_30d
    from goals
    inner join metrics
        on goals.site_id = metrics.site_id
        and goals.metric = metrics.metric
        and metrics.day between goals.start_day and goals.due_day
),

measured as (
    select
        goal_days.site_id,
        goal_days.goal_id,
        goal_days.day,
        goal_days.metric,
        catalogue.unit,
        goal_days.owner,
        goal_days.start_day,
        goal_days.due_day,
        goal_days.target_value,
        baselines.baseline_value,
        baselines.is_baseline_declared,
        goal_days.current_value,
        goal_days.n_days_30d,
        {{ safe_divide(
            '100.0 * (baselines.baseline_value - goal_days.current_value)',
            'baselines.baseline_value - goal_days.target_value'
        ) }} as progress_pct,
        {{ safe_divide(
            '100.0 * ' ~ dbt.datediff('goal_days.start_day', 'goal_days.day', 'day'),
            dbt.datediff('goal_days.start_day', 'goal_days.due_day', 'day')
        ) }} as expected_pct,
        case
            when catalogue.lower_is_better then goal_days.current_value <= goal_days.target_value
            else goal_days.current_value >= goal_days.target_value
        end as is_target_met,
        settings.at_risk_margin_pct
    from goal_days
    inner join baselines
        on goal_days.site_id = baselines.site_id
        and goal_days.goal_id = baselines.goal_id
    inner join catalogue
        on goal_days.metric = catalogue.metric
    inner join settings
        on goal_days.site_id = settings.site_id
),

final as (
    select
        site_id,
        goal_id,
        day,
        metric,
        unit,
        owner,
        start_day,
        due_day,
        target_value,
        baseline_value,
        is_baseline_declared,
        current_value,
        n_days_30d,
        progress_pct,
        expected_pct,
        expected_pct - progress_pct as behind_path_pct,
        at_risk_margin_pct,
        case
            when current_value is null then 'no_data'
            when is_target_met then 'achieved'
            when day = due_day then 'missed'
            when baseline_value is null then 'no_baseline'
            when progress_pct >= expected_pct then 'on_track'
            when progress_pct >= expected_pct - at_risk_margin_pct then 'at_risk'
            else 'off_track'
        end as status
    from measured
)

select * from final
