{#- fct_water_reuse_daily summed over each site's months; the ratios and the intensity are
    recomputed from the month's volumes, not averaged over days. -#}
with

daily as (
    select * from {{ ref('fct_water_reuse_daily') }}
),

monthly as (
    select
        site_id,
        month_start,
        sum(task_feed_m3) as task_feed_m3,
        sum(task_feed_raw_m3) as task_feed_raw_m3,
        sum(task_feed_worked_m3) as task_feed_worked_m3,
        sum(task_feed_treated_m3) as task_feed_treated_m3,
        sum(task_feed_state_unknown_m3) as task_feed_state_unknown_m3,
        sum(task_feed_worked_declared_m3) as task_feed_worked_declared_m3,
        sum(task_feed_treated_declared_m3) as task_feed_treated_declared_m3,
        sum(ore_feed_t) as ore_feed_t,
        cast(count(*) as bigint) as n_days,
        {{ count_where('is_complete') }} as n_days_complete
    from daily
    group by site_id, month_start
),

final as (
    select
        site_id,
        month_start,
        task_feed_m3,
        task_feed_raw_m3,
        task_feed_worked_m3,
        task_feed_treated_m3,
        {{ safe_divide('task_feed_worked_m3', 'task_feed_m3') }} as reuse_ratio,
        {{ safe_divide('task_feed_worked_m3 + task_feed_treated_m3', 'task_feed_m3') }}
            as recycling_ratio,
        task_feed_raw_m3 as fresh_water_m3,
        ore_feed_t,
        {{ safe_divide('task_feed_raw_m3', 'ore_feed_t') }} as fresh_water_intensity_m3_per_t,
        task_feed_state_unknown_m3,
        {{ safe_divide('task_feed_worked_declared_m3', 'task_feed_m3') }} as reuse_ratio_declared,
        {{ safe_divide(
            'task_feed_worked_declared_m3 + task_feed_treated_declared_m3', 'task_feed_m3'
        ) }} as recycling_ratio_declared,
        n_days,
        n_days_complete
    from monthly
)

select * from final
