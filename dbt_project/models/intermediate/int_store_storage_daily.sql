{{ config(**partitioned_by_day_config('day')) }}

{#- Opening and closing storage of every store and site-local day. Opening(D) is the volume at
    local midnight starting D, closing(D) the volume at the next midnight, so closing(D) equals
    opening(D + 1). The level at a midnight is the reading stamped there, else the straight line
    between the last reading before and the first after it, else the nearest reading if it is
    at most `level_fresh_intervals` intervals away. Among a store's level meters the fresh ones
    (gap within that many intervals) with the shortest interval win and are averaged: a 15-min
    transmitter beats a daily dip board read at 08:00. The level becomes a volume through the
    store's stage-storage curve. -#}
with

days as (
    select * from {{ ref('int_site_days') }}
),

nodes as (
    select * from {{ ref('stg_site_config__nodes') }}
    where node_kind = 'store'
),

level_meters as (
    select * from {{ ref('stg_site_config__meters') }}
    where measurand = 'level'
        and node_id is not null
),

segments as (
    select * from {{ ref('int_stage_storage_segments') }}
),

-- received level readings that passed validation. An invalid one (a sensor error code, a
-- spike) is left out and its midnight, if it stood on one, comes from the readings around it as
-- for a missing one. Gap estimates are not used: an interpolated transmitter would look fresh
-- and outrank the dip board that was really read.
readings as (
    select site_id, meter_id, ts_utc, reading_day, raw_value as value_canonical
    from {{ ref('int_readings_validated') }}
    where measurand = 'level'
        and is_received
        and estimation_reasons is null
        and raw_value is not null
        and {{ in_day_window('reading_day', before=1, after=1) }}
        and {{ in_site_window('site_id') }}
),

meter_days as (
    select
        site_id,
        meter_id,
        reading_day as day,
        min(ts_utc) as first_ts_utc,
        {{ value_at_min('value_canonical', 'ts_utc') }} as first_level_m,
        max(ts_utc) as last_ts_utc,
        {{ value_at_max('value_canonical', 'ts_utc') }} as last_level_m
    from readings
    group by site_id, meter_id, reading_day
),

boundaries as (
    select site_id, day as boundary_day, day_start_utc as boundary_utc
    from days
    union
    select site_id, {{ add_days('day', 1) }} as boundary_day, day_end_utc as boundary_utc
    from days
),

meter_boundaries as (
    select
        boundaries.site_id,
        level_meters.node_id,
        level_meters.meter_id,
        level_meters.interval_seconds,
        boundaries.boundary_day,
        boundaries.boundary_utc,
        before_day.last_ts_utc as before_ts_utc,
        before_day.last_level_m as before_level_m,
        after_day.first_ts_utc as after_ts_utc,
        after_day.first_level_m as after_level_m
    from boundaries
    inner join level_meters
        on boundaries.site_id = level_meters.site_id
    left join meter_days as before_day
        on boundaries.site_id = before_day.site_id
        and level_meters.meter_id = before_day.meter_id
        and before_day.day = {{ add_days('boundaries.boundary_day', -1) }}
    left join meter_days as after_day
        on boundaries.site_id = after_day.site_id
        and level_meters.meter_id = after_day.meter_id
        and after_day.day = boundaries.boundary_day
    where before_day.last_ts_utc is not null
        or after_day.first_ts_utc is not null
),

meter_levels as (
    select
        site_id,
        node_id,
        meter_id,
        interval_seconds,
        boundary_day,
        case
            when after_ts_utc = boundary_utc then after_level_m
            when before_ts_utc is not null and after_ts_utc is not null
                then {{ linear_interpolate(
                    epoch_seconds('boundary_utc'),
                    epoch_seconds('before_ts_utc'), 'before_level_m',
                    epoch_seconds('after_ts_utc'), 'after_level_m'
                ) }}
            when before_ts_utc is not null then before_level_m
            else after_level_m
        end as level_m,
        case
            when after_ts_utc = boundary_utc then 'reading'
            when before_ts_utc is not null and after_ts_utc is not null then 'interpolated'
            when before_ts_utc is not null then 'carried_forward'
            else 'carried_back'
        end as level_method,
        case
            when after_ts_utc = boundary_utc then 0
            when before_ts_utc is not null and after_ts_utc is not null
                then {{ epoch_seconds('after_ts_utc') }} - {{ epoch_seconds('before_ts_utc') }}
            when before_ts_utc is not null
                then {{ epoch_seconds('boundary_utc') }} - {{ epoch_seconds('before_ts_utc') }}
            else {{ epoch_seconds('after_ts_utc') }} - {{ epoch_seconds('boundary_utc') }}
        end as gap_seconds
    from meter_boundaries
),

usable as (
    select * from meter_levels
    -- a level carried across a gap is only as good as the gap is short; a straight line
    -- between two real readings is kept whatever the gap (the stalest candidate loses below)
    where level_method in ('reading', 'interpolated')
        or gap_seconds <= {{ var('level_fresh_intervals') }} * interval_seconds
),

ranked as (
    select
        usable.*,
        dense_rank() over (
            partition by site_id, node_id, boundary_day
            order by
                case
                    when gap_seconds <= {{ var('level_fresh_intervals') }} * interval_seconds
                        then 0
                    else 1
                end,
                interval_seconds
        ) as preference
    from usable
),

store_levels as (
    select
        site_id,
        node_id,
        boundary_day,
        avg(level_m) as level_m,
        {{ dbt.listagg("meter_id || ':' || level_method", "', '", "order by meter_id") }}
            as level_source
    from ranked
    where preference = 1
    group by site_id, node_id, boundary_day
),

store_volumes as (
    select
        store_levels.site_id,
        store_levels.node_id,
        store_levels.boundary_day,
        store_levels.level_m,
        store_levels.level_source,
        {{ linear_interpolate(
            'store_levels.level_m',
            'segments.level_low_m', 'segments.volume_low_m3',
            'segments.level_high_m', 'segments.volume_high_m3'
        ) }} as storage_m3
    from store_levels
    inner join segments
        on store_levels.site_id = segments.site_id
        and store_levels.node_id = segments.node_id
        and (store_levels.level_m >= segments.level_low_m or segments.is_first)
        and (store_levels.level_m < segments.level_high_m or segments.is_last)
),

final as (
    select
        days.site_id,
        nodes.node_id,
        days.day,
        opening.level_m as opening_level_m,
        opening.storage_m3 as opening_storage_m3,
        opening.level_source as opening_level_source,
        closing.level_m as closing_level_m,
        closing.storage_m3 as closing_storage_m3,
        closing.level_source as closing_level_source,
        closing.storage_m3 - opening.storage_m3 as storage_change_m3
    from days
    inner join nodes
        on days.site_id = nodes.site_id
    left join store_volumes as opening
        on nodes.site_id = opening.site_id
        and nodes.node_id = opening.node_id
        and opening.boundary_day = days.day
    left join store_volumes as closing
        on nodes.site_id = closing.site_id
        and nodes.node_id = closing.node_id
        and closing.boundary_day = {{ add_days('days.day', 1) }}
)

select * from final
