{#- Meter events: those the meters reported (source 'meter', a record delivered twice counts
    once) and those dbt detects (source 'detected'):
    - burst: a run of consecutive hours whose volume is above burst_q3_fraction x Q3 (m3/h) x
      1 h (Q3 of the meter, else the site default; int_metering_burst_hours) is one event from
      the run's first hour to the end of its last (cleared_at);
    - reverse_flow: a day whose reverse register rose by more than reverse_flow_l;
    - leak: a run of consecutive leak days (fct_meter_leak_days) is one event, cleared at the
      end of its last day.
    Detected ids: '<type>:<meter>:<start instant>'. -#}
with

settings as (
    select * from {{ ref('int_metering_settings') }}
),

reported as (
    select
        events.site_id,
        events.meter_id,
        events.event_id,
        events.occurred_at,
        events.event_type,
        'meter' as source,
        events.cleared_at,
        events.detail
    from {{ ref('stg_metering__meter_events') }} as events
    qualify row_number() over (
        partition by events.site_id, events.event_id
        order by events.loaded_at desc, events.source_row desc
    ) = 1
),

burst_hours as (
    select
        site_id,
        meter_id,
        hour_start,
        volume_m3,
        -- consecutive hours share this key: hour number minus rank
        epoch(hour_start) / 3600
        - row_number() over (partition by site_id, meter_id order by hour_start) as run_key
    from {{ ref('int_metering_burst_hours') }}
),

bursts as (
    select
        site_id,
        meter_id,
        'burst:' || meter_id || ':' || strftime(min(hour_start), '%Y-%m-%dT%H:%M:%SZ') as event_id,
        min(hour_start) as occurred_at,
        'burst' as event_type,
        'detected' as source,
        max(hour_start) + interval '1 hour' as cleared_at,
        cast(count(*) as varchar) || ' h above the burst threshold, '
        || cast(round(sum(volume_m3), 3) as varchar) || ' m3, peak '
        || cast(round(max(volume_m3), 3) as varchar) || ' m3/h' as detail
    from burst_hours
    group by site_id, meter_id, run_key
),

reverse_days as (
    select
        days.site_id,
        days.meter_id,
        'reverse_flow:' || days.meter_id || ':' || strftime(
            {{ local_to_utc('cast(days.day as timestamp)', 'settings.timezone') }},
            '%Y-%m-%dT%H:%M:%SZ'
        ) as event_id,
        {{ local_to_utc('cast(days.day as timestamp)', 'settings.timezone') }} as occurred_at,
        'reverse_flow' as event_type,
        'detected' as source,
        {{ local_to_utc(add_days('days.day', 1), 'settings.timezone') }} as cleared_at,
        'reverse register rose ' || cast(round(days.reverse_m3 * 1000, 1) as varchar)
        || ' L in the day' as detail
    from {{ ref('fct_meter_consumption_daily') }} as days
    inner join settings
        on days.site_id = settings.site_id
    where days.reverse_m3 * 1000 > settings.reverse_flow_l
),

leak_days as (
    select
        site_id,
        meter_id,
        day,
        leak_kind,
        {{ day_number('day') }}
        - row_number() over (partition by site_id, meter_id order by day) as run_key
    from {{ ref('fct_meter_leak_days') }}
    where leak
),

leak_runs as (
    select
        leak_days.site_id,
        leak_days.meter_id,
        min(leak_days.day) as first_day,
        max(leak_days.day) as last_day,
        count(*) as n_days,
        string_agg(distinct leak_days.leak_kind, ', ' order by leak_days.leak_kind) as kinds,
        any_value(settings.timezone) as timezone
    from leak_days
    inner join settings
        on leak_days.site_id = settings.site_id
    group by leak_days.site_id, leak_days.meter_id, leak_days.run_key
),

leaks as (
    select
        site_id,
        meter_id,
        'leak:' || meter_id || ':' || strftime(
            {{ local_to_utc('cast(first_day as timestamp)', 'timezone') }}, '%Y-%m-%dT%H:%M:%SZ'
        ) as event_id,
        {{ local_to_utc('cast(first_day as timestamp)', 'timezone') }} as occurred_at,
        'leak' as event_type,
        'detected' as source,
        {{ local_to_utc(add_days('last_day', 1), 'timezone') }} as cleared_at,
        cast(n_days as varchar) || ' leak day(s): ' || kinds as detail
    from leak_runs
),

events as (
    select * from reported
    union all
    select * from bursts
    union all
    select * from reverse_days
    union all
    select * from leaks
),

final as (
    select
        events.site_id,
        events.meter_id,
        meters_now.customer_id,
        events.event_id,
        events.occurred_at,
        cast({{ utc_to_local('events.occurred_at', 'settings.timezone') }} as date) as day,
        events.event_type,
        events.source,
        events.cleared_at,
        events.detail
    from events
    inner join settings
        on events.site_id = settings.site_id
    left join {{ ref('dim_metering_meters') }} as meters_now
        on events.site_id = meters_now.site_id
        and events.meter_id = meters_now.meter_id
)

select * from final
