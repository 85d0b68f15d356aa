{#- Water fed to tasks per site-local day split into raw (fresh), worked (reused) and treated
    (recycled) volume by complete mixing through the stores, with the reuse and recycling
    ratios and fresh-water intensity; beside them the same split by each flow's declared
    state, as fct_site_balance_daily reports it. -#}
with

volumes as (
    select * from {{ ref('int_flow_volumes_daily') }}
),

flows as (
    select * from {{ ref('int_flows_classified') }}
    where to_node_kind = 'task'
),

store_states as (
    select * from {{ ref('int_store_water_state_daily') }}
),

ore as (
    select * from {{ ref('int_ore_feed_daily') }}
),

days as (
    select distinct site_id, day, month_start, is_day_closed
    from volumes
),

-- every flow into a task with the shares of its water: out of a store, the store's mixed
-- composition of the day; out of a source or a task, its declared state (raw for a source,
-- worked for a task when undeclared)
feed as (
    select
        volumes.site_id,
        volumes.day,
        volumes.volume_m3,
        volumes.is_missing,
        flows.water_state as declared_state,
        flows.from_node_kind,
        store_states.worked_share is null and flows.from_node_kind = 'store' as is_state_unknown,
        case
            when flows.from_node_kind = 'store' then coalesce(store_states.worked_share, 0)
            when coalesce(
                flows.water_state, case flows.from_node_kind when 'task' then 'worked' end
            ) = 'worked' then 1.0
            else 0.0
        end as worked_share,
        case
            when flows.from_node_kind = 'store' then coalesce(store_states.treated_share, 0)
            when flows.water_state = 'treated' then 1.0
            else 0.0
        end as treated_share
    from volumes
    inner join flows
        on volumes.site_id = flows.site_id
        and volumes.flow_id = flows.flow_id
    left join store_states
        on flows.site_id = store_states.site_id
        and flows.from_node_id = store_states.node_id
        and volumes.day = store_states.day
),

feed_daily as (
    select
        site_id,
        day,
        coalesce(sum(volume_m3), 0) as task_feed_m3,
        coalesce(sum(volume_m3 * (1 - worked_share - treated_share)), 0) as task_feed_raw_m3,
        coalesce(sum(volume_m3 * worked_share), 0) as task_feed_worked_m3,
        coalesce(sum(volume_m3 * treated_share), 0) as task_feed_treated_m3,
        coalesce(sum(case when is_state_unknown then volume_m3 end), 0)
            as task_feed_state_unknown_m3,
        coalesce(sum(case when declared_state = 'raw' then volume_m3 end), 0)
            as task_feed_raw_declared_m3,
        coalesce(sum(case when declared_state = 'worked' then volume_m3 end), 0)
            as task_feed_worked_declared_m3,
        coalesce(sum(case when declared_state = 'treated' then volume_m3 end), 0)
            as task_feed_treated_declared_m3,
        coalesce(sum(case when declared_state is null then volume_m3 end), 0)
            as task_feed_undeclared_m3,
        {{ count_where('is_missing') }} as n_task_feed_flows_missing
    from feed
    group by site_id, day
),

joined as (
    select
        days.site_id,
        days.day,
        days.month_start,
        coalesce(feed_daily.task_feed_m3, 0) as task_feed_m3,
        coalesce(feed_daily.task_feed_raw_m3, 0) as task_feed_raw_m3,
        coalesce(feed_daily.task_feed_worked_m3, 0) as task_feed_worked_m3,
        coalesce(feed_daily.task_feed_treated_m3, 0) as task_feed_treated_m3,
        coalesce(feed_daily.task_feed_state_unknown_m3, 0) as task_feed_state_unknown_m3,
        coalesce(feed_daily.task_feed_raw_declared_m3, 0) as task_feed_raw_declared_m3,
        coalesce(feed_daily.task_feed_worked_declared_m3, 0) as task_feed_worked_declared_m3,
        coalesce(feed_daily.task_feed_treated_declared_m3, 0) as task_feed_treated_declared_m3,
        coalesce(feed_daily.task_feed_undeclared_m3, 0) as task_feed_undeclared_m3,
        coalesce(feed_daily.n_task_feed_flows_missing, 0) as n_task_feed_flows_missing,
        ore.ore_feed_t,
        days.is_day_closed
    from days
    left join feed_daily
        on days.site_id = feed_daily.site_id
        and days.day = feed_daily.day
    left join ore
        on days.site_id = ore.site_id
        and days.day = ore.day
),

final as (
    select
        site_id,
        day,
        month_start,
        task_feed_m3,
        task_feed_raw_m3,
        task_feed_worked_m3,
        task_feed_treated_m3,
        task_feed_worked_m3 + task_feed_treated_m3 as task_feed_reused_or_recycled_m3,
        {{ safe_divide('task_feed_worked_m3', 'task_feed_m3') }} as reuse_ratio,
        {{ safe_divide('task_feed_worked_m3 + task_feed_treated_m3', 'task_feed_m3') }}
            as recycling_ratio,
        task_feed_raw_m3 as fresh_water_m3,
        ore_feed_t,
        {{ safe_divide('task_feed_raw_m3', 'ore_feed_t') }} as fresh_water_intensity_m3_per_t,
        task_feed_state_unknown_m3,
        task_feed_raw_declared_m3,
        task_feed_worked_declared_m3,
        task_feed_treated_declared_m3,
        task_feed_undeclared_m3,
        {{ safe_divide('task_feed_worked_declared_m3', 'task_feed_m3') }} as reuse_ratio_declared,
        {{ safe_divide(
            'task_feed_worked_declared_m3 + task_feed_treated_declared_m3', 'task_feed_m3'
        ) }} as recycling_ratio_declared,
        n_task_feed_flows_missing,
        is_day_closed,
        n_task_feed_flows_missing = 0 and is_day_closed as is_complete
    from joined
)

select * from final
