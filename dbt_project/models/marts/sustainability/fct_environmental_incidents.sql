{#- The environmental incidents register: incidents recorded by people (CLI or drop file) and
    incidents the data shows, in one table.

    Detected: an overflow per store and contiguous run of days closing above the store's
    capacity (fct_store_levels_daily); a discharge incident per discharge point and evaluated
    period with a licence limit exceeded (fct_discharge_exceedances; indeterminate results are
    not incidents). A detected incident that matches a recorded one - same site and type, the
    same node or flow, overlapping days (an open-ended recorded incident overlaps everything
    after its start) - is linked to it (linked_detection_ids) instead of listed twice. -#}
with

recorded as (
    select * from {{ ref('stg_lake__recorded_incidents') }}
),

store_days as (
    select * from {{ ref('fct_store_levels_daily') }}
    where closing_storage_m3 is not null
),

exceedances as (
    select * from {{ ref('fct_discharge_exceedances') }}
    where is_exceeded
),

points as (
    select * from {{ ref('stg_site_config__wq_sample_points') }}
),

last_days as (
    select site_id, node_id, max(day) as last_day
    from store_days
    group by site_id, node_id
),

over_capacity as (
    select
        site_id,
        node_id,
        day,
        closing_storage_m3 - capacity_m3 as excess_m3,
        capacity_m3,
        -- consecutive days share this anchor: day minus its rank in the store's run
        day - cast(row_number() over (
            partition by site_id, node_id order by day
        ) as integer) as episode_anchor
    from store_days
    where closing_storage_m3 > capacity_m3
),

overflows as (
    select
        over_capacity.site_id,
        'overflow' as incident_type,
        over_capacity.node_id,
        cast(null as varchar) as flow_id,
        cast(null as varchar) as sample_point_id,
        min(over_capacity.day) as started_day,
        max(over_capacity.day) as ended_day,
        max(over_capacity.excess_m3) as volume_m3,
        case
            when max(over_capacity.excess_m3) > 0.05 * max(over_capacity.capacity_m3) then 'high'
            else 'medium'
        end as severity,
        case
            when max(over_capacity.day) = max(last_days.last_day) then 'active'
            else 'contained'
        end as status,
        'store_above_capacity' as detection_rule,
        'closing storage above capacity on ' || cast(count(*) as varchar)
        || ' day(s), peak ' || cast(round(max(over_capacity.excess_m3), 1) as varchar)
        || ' m3 over' as description
    from over_capacity
    inner join last_days
        on over_capacity.site_id = last_days.site_id
        and over_capacity.node_id = last_days.node_id
    group by over_capacity.site_id, over_capacity.node_id, over_capacity.episode_anchor
),

discharges as (
    select
        exceedances.site_id,
        'discharge' as incident_type,
        points.node_id,
        points.flow_id,
        exceedances.sample_point_id,
        exceedances.period_start as started_day,
        exceedances.period_end as ended_day,
        cast(null as double precision) as volume_m3,
        case when min(exceedances.margin_pct) < -50 then 'high' else 'medium' end as severity,
        'contained' as status,
        'discharge_outside_licence' as detection_rule,
        'licence limit(s) exceeded: '
        || string_agg(exceedances.limit_id, ', ' order by exceedances.limit_id) as description
    from exceedances
    inner join points
        on exceedances.site_id = points.site_id
        and exceedances.sample_point_id = points.sample_point_id
    group by
        exceedances.site_id, points.node_id, points.flow_id, exceedances.sample_point_id,
        exceedances.period_start, exceedances.period_end
),

detected as (
    select
        'detected:' || detection_rule || ':' || site_id || ':'
        || coalesce(sample_point_id, node_id) || ':' || cast(started_day as varchar)
        || ':' || cast(ended_day as varchar) as detection_id,
        *
    from (
        select * from overflows
        union all
        select * from discharges
    ) as found
),

links as (
    select
        recorded.incident_id,
        detected.detection_id
    from recorded
    inner join detected
        on recorded.site_id = detected.site_id
        and recorded.incident_type = detected.incident_type
        and (recorded.node_id = detected.node_id or recorded.flow_id = detected.flow_id)
        and recorded.started_day <= detected.ended_day
        and coalesce(recorded.ended_day, detected.started_day) >= detected.started_day
),

recorded_rows as (
    select
        recorded.incident_id,
        recorded.site_id,
        recorded.incident_type,
        recorded.node_id,
        recorded.flow_id,
        cast(null as varchar) as sample_point_id,
        recorded.started_day,
        recorded.ended_day,
        recorded.volume_m3,
        recorded.severity,
        recorded.status,
        recorded.is_reported_to_authority,
        recorded.reported_on,
        recorded.authority_reference,
        recorded.description,
        'manual' as source,
        cast(null as varchar) as detection_rule,
        (
            select string_agg(links.detection_id, ', ' order by links.detection_id)
            from links
            where links.incident_id = recorded.incident_id
        ) as linked_detection_ids
    from recorded
),

detected_rows as (
    select
        detected.detection_id as incident_id,
        detected.site_id,
        detected.incident_type,
        detected.node_id,
        detected.flow_id,
        detected.sample_point_id,
        detected.started_day,
        detected.ended_day,
        detected.volume_m3,
        detected.severity,
        detected.status,
        false as is_reported_to_authority,
        cast(null as date) as reported_on,
        cast(null as varchar) as authority_reference,
        detected.description,
        'detected' as source,
        detected.detection_rule,
        cast(null as varchar) as linked_detection_ids
    from detected
    where not exists (
        select 1 from links where links.detection_id = detected.detection_id
    )
),

unioned as (
    select
        *,
        linked_detection_ids is not null as is_confirmed_by_data
    from recorded_rows
    union all
    select
        *,
        false as is_confirmed_by_data
    from detected_rows
),

final as (
    select
        *,
        status in ('active', 'contained') as is_open
    from unioned
)

select * from final
