{{ config(**partitioned_by_day_config('day')) }}

{#- What the quality scores are computed from: per site-local day, readings expected, received,
    invalid, late, in redundancy disagreement and estimated, for every meter, for each node (the
    meters on it and on the flows into and out of it) and for the whole site. Expected readings
    come from the meter's interval over the local day (96 for 15 minutes, 1 for a daily manual
    reading). -#}
with

site_days as (
    select site_id, day, day_start_utc, day_end_utc, is_closed
    from {{ ref('int_site_days') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
),

flows as (
    select * from {{ ref('stg_site_config__flows') }}
),

received as (
    select
        site_id,
        meter_id,
        reading_day as day,
        count(*) as n_received
    from {{ ref('int_readings_deduplicated') }}
    where {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
    group by site_id, meter_id, reading_day
),

flagged as (
    select
        site_id,
        meter_id,
        reading_day as day,
        count(distinct case when severity = 'invalid' then ts_utc end) as n_invalid,
        count(case when flag = 'late_arrival' then 1 end) as n_late,
        count(case when flag = 'redundancy_disagreement' then 1 end) as n_disagreeing,
        count(case when flag = 'gap' then 1 end) as n_gap,
        count(case when flag = 'duplicate' then 1 end) as n_duplicate
    from {{ ref('int_reading_flags') }}
    where {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
    group by site_id, meter_id, reading_day
),

estimates as (
    select
        site_id,
        meter_id,
        reading_day as day,
        count(case when estimation_method <> 'none' then 1 end) as n_estimated,
        count(case when is_prolonged then 1 end) as n_prolonged
    from {{ ref('int_readings_estimated') }}
    where {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
    group by site_id, meter_id, reading_day
),

meter_days as (
    select
        site_days.site_id,
        site_days.day,
        site_days.is_closed,
        meters.meter_id,
        greatest(
            1,
            floor(
                ({{ epoch_seconds('site_days.day_end_utc') }}
                    - {{ epoch_seconds('site_days.day_start_utc') }})
                / meters.interval_seconds
            )
        ) as n_expected,
        coalesce(received.n_received, 0) as n_received,
        coalesce(flagged.n_invalid, 0) as n_invalid,
        coalesce(flagged.n_late, 0) as n_late,
        case when meters.redundancy_group is not null then coalesce(received.n_received, 0)
            else 0 end as n_redundant,
        coalesce(flagged.n_disagreeing, 0) as n_disagreeing,
        coalesce(flagged.n_gap, 0) as n_gap,
        coalesce(flagged.n_duplicate, 0) as n_duplicate,
        coalesce(estimates.n_estimated, 0) as n_estimated,
        coalesce(estimates.n_prolonged, 0) as n_prolonged
    from site_days
    inner join meters
        on site_days.site_id = meters.site_id
    left join received
        on meters.site_id = received.site_id
        and meters.meter_id = received.meter_id
        and site_days.day = received.day
    left join flagged
        on meters.site_id = flagged.site_id
        and meters.meter_id = flagged.meter_id
        and site_days.day = flagged.day
    left join estimates
        on meters.site_id = estimates.site_id
        and meters.meter_id = estimates.meter_id
        and site_days.day = estimates.day
),

meter_nodes as (
    select site_id, meter_id, node_id from meters where node_id is not null
    union
    select meters.site_id, meters.meter_id, flows.from_node_id
    from meters
    inner join flows
        on meters.site_id = flows.site_id
        and meters.flow_id = flows.flow_id
    union
    select meters.site_id, meters.meter_id, flows.to_node_id
    from meters
    inner join flows
        on meters.site_id = flows.site_id
        and meters.flow_id = flows.flow_id
),

{% set counts = ['n_expected', 'n_received', 'n_invalid', 'n_late', 'n_redundant',
                 'n_disagreeing', 'n_gap', 'n_duplicate', 'n_estimated', 'n_prolonged'] %}

meter_rows as (
    select
        site_id,
        day,
        'meter' as scope,
        meter_id as scope_id,
        is_closed,
        1 as n_meters,
        {% for c in counts %}cast({{ c }} as bigint) as {{ c }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from meter_days
),

node_rows as (
    select
        meter_days.site_id,
        meter_days.day,
        'node' as scope,
        meter_nodes.node_id as scope_id,
        bool_and(meter_days.is_closed) as is_closed,
        count(*) as n_meters,
        {% for c in counts %}
        cast(sum(meter_days.{{ c }}) as bigint) as {{ c }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from meter_days
    inner join meter_nodes
        on meter_days.site_id = meter_nodes.site_id
        and meter_days.meter_id = meter_nodes.meter_id
    group by meter_days.site_id, meter_days.day, meter_nodes.node_id
),

site_rows as (
    select
        site_id,
        day,
        'site' as scope,
        site_id as scope_id,
        bool_and(is_closed) as is_closed,
        count(*) as n_meters,
        {% for c in counts %}
        cast(sum({{ c }}) as bigint) as {{ c }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from meter_days
    group by site_id, day
),

final as (
    select * from meter_rows
    union all
    select * from node_rows
    union all
    select * from site_rows
)

select * from final
