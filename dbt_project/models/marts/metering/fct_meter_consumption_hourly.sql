{{ config(**partitioned_by_day_config('day')) }}

{#- Volume through each customer meter per site-local hour, in one pass over the readings.
    Copies of a reading (same meter and instant) count once, the last loaded. Each reading
    closes an interval: a register reading the one since the meter's previous reading (volume
    = register rise; a fall beyond the jitter is a reset or a replaced meter, counted from zero:
    the volume is the new register value, never negative use), an interval reading the
    meter's reading interval before it. An interval's volume is spread over the local hours it
    covers in proportion to their overlap, so a gap in the reports (an interval longer than 1.5
    reading intervals) is spread evenly over the hours it spans and its share is flagged in
    gap_m3. Reverse volume: the rise of the reverse register, spread the same way. A window run
    reads the readings from the day before its window, so the first interval of the window has
    its previous reading. -#}
with

readings as (
    select
        site_id,
        meter_id,
        read_at,
        arg_max(
            struct_pack(register_m3, interval_m3, reverse_m3, battery_pct, signal_dbm),
            loaded_at
        ) as reading
    from {{ ref('stg_metering__readings') }}
    where {{ in_day_window('partition_day', before=1) }}
        and {{ in_site_window('site_id') }}
        and read_at is not null
    group by site_id, meter_id, read_at
),

settings as (
    select
        site_id,
        timezone
    from {{ ref('int_metering_settings') }}
),

meters as (
    select
        site_id,
        meter_id,
        reading_interval_minutes
    from {{ ref('dim_metering_meters') }}
),

sequenced as (
    select
        readings.site_id,
        readings.meter_id,
        readings.read_at,
        readings.reading.register_m3 as register_m3,
        readings.reading.interval_m3 as interval_m3,
        readings.reading.reverse_m3 as reverse_m3,
        readings.reading.battery_pct as battery_pct,
        readings.reading.signal_dbm as signal_dbm,
        coalesce(meters.reading_interval_minutes, 60) as reading_interval_minutes,
        settings.timezone,
        lag(readings.read_at) over meter_series as previous_read_at,
        lag(readings.reading.register_m3) over meter_series as previous_register_m3,
        lag(readings.reading.reverse_m3) over meter_series as previous_reverse_m3
    from readings
    left join meters
        on readings.site_id = meters.site_id
        and readings.meter_id = meters.meter_id
    inner join settings
        on readings.site_id = settings.site_id
    window meter_series as (
        partition by readings.site_id, readings.meter_id order by readings.read_at
    )
),

intervals as (
    select
        site_id,
        meter_id,
        read_at,
        battery_pct,
        signal_dbm,
        timezone,
        case
            when register_m3 is null
                then read_at - to_minutes(reading_interval_minutes)
            when previous_register_m3 is not null then previous_read_at
        end as start_at,
        case
            when register_m3 is null then coalesce(interval_m3, 0)
            when previous_register_m3 is null then 0
            when register_m3 >= previous_register_m3 - {{ var('totaliser_jitter_m3') }}
                then greatest(register_m3 - previous_register_m3, 0)
            else register_m3
        end as volume_m3,
        case
            when reverse_m3 is null or previous_reverse_m3 is null then 0
            when reverse_m3 >= previous_reverse_m3 - {{ var('totaliser_jitter_m3') }}
                then greatest(reverse_m3 - previous_reverse_m3, 0)
            else reverse_m3
        end as reverse_volume_m3,
        register_m3 is not null
        and previous_register_m3 is not null
        and register_m3 < previous_register_m3 - {{ var('totaliser_jitter_m3') }} as is_reset,
        register_m3 is not null
        and previous_read_at is not null
        and epoch(read_at - previous_read_at) > 1.5 * 60 * reading_interval_minutes as is_gap
    from sequenced
),

localised as (
    select
        *,
        {{ utc_to_local('read_at', 'timezone') }} as end_local,
        {{ utc_to_local('start_at', 'timezone') }} as start_local,
        date_trunc('hour', {{ utc_to_local('read_at', 'timezone') }} - interval 1 microsecond)
            as own_hour_local
    from intervals
),

-- an interval within one local hour (almost all of them) keeps its row ...
single_hour as (
    select
        site_id,
        meter_id,
        timezone,
        own_hour_local as hour_local,
        volume_m3,
        reverse_volume_m3,
        is_gap,
        is_reset,
        true as is_own_hour,
        read_at,
        battery_pct,
        signal_dbm
    from localised
    where start_local is null
        or date_trunc('hour', start_local) = own_hour_local
),

-- ... one spanning several is spread over them by overlap
spanning as (
    select
        site_id,
        meter_id,
        timezone,
        start_local,
        end_local,
        own_hour_local,
        volume_m3,
        reverse_volume_m3,
        is_gap,
        is_reset,
        read_at,
        battery_pct,
        signal_dbm,
        unnest(generate_series(date_trunc('hour', start_local), own_hour_local, interval 1 hour))
            as hour_local
    from localised
    where start_local is not null
        and date_trunc('hour', start_local) != own_hour_local
),

spread as (
    select
        site_id,
        meter_id,
        timezone,
        hour_local,
        volume_m3 * share as volume_m3,
        reverse_volume_m3 * share as reverse_volume_m3,
        is_gap,
        is_reset and is_own_hour as is_reset,
        is_own_hour,
        read_at,
        battery_pct,
        signal_dbm
    from (
        select
            *,
            hour_local = own_hour_local as is_own_hour,
            epoch(
                least(end_local, hour_local + interval 1 hour) - greatest(start_local, hour_local)
            ) / nullif(epoch(end_local - start_local), 0) as share
        from spanning
    ) as shared
),

hour_parts as (
    select * from single_hour
    union all
    select * from spread
),

hourly as (
    select
        site_id,
        meter_id,
        hour_local,
        any_value(timezone) as timezone,
        sum(volume_m3) as volume_m3,
        sum(reverse_volume_m3) as reverse_m3,
        coalesce(sum(volume_m3) filter (where is_gap), 0) as gap_m3,
        count(*) filter (where is_own_hour) as readings,
        count(*) filter (where is_reset) as resets,
        max(read_at) filter (where is_own_hour) as last_reading_at,
        arg_max(battery_pct, read_at) filter (
            where is_own_hour and battery_pct is not null
        ) as battery_pct,
        arg_max(signal_dbm, read_at) filter (
            where is_own_hour and signal_dbm is not null
        ) as signal_dbm
    from hour_parts
    group by site_id, meter_id, hour_local
),

meter_versions as (
    select
        site_id,
        meter_id,
        customer_id,
        valid_from,
        valid_to
    from {{ ref('int_metering_meter_versions') }}
),

final as (
    select
        hourly.site_id,
        hourly.meter_id,
        meter_versions.customer_id,
        {{ local_to_utc('hourly.hour_local', 'hourly.timezone') }} as hour_start,
        cast(hour(hourly.hour_local) as integer) as local_hour,
        cast(hourly.hour_local as date) as day,
        hourly.volume_m3,
        hourly.reverse_m3,
        cast(hourly.readings as integer) as readings,
        hourly.gap_m3,
        cast(hourly.resets as integer) as resets,
        hourly.last_reading_at,
        hourly.battery_pct,
        hourly.signal_dbm
    from hourly
    left join meter_versions
        on hourly.site_id = meter_versions.site_id
        and hourly.meter_id = meter_versions.meter_id
        and {{ local_to_utc('hourly.hour_local', 'hourly.timezone') }} >= meter_versions.valid_from
        and {{ local_to_utc('hourly.hour_local', 'hourly.timezone') }} < meter_versions.valid_to
    where {{ in_day_window('cast(hourly.hour_local as date)') }}
)

select * from final
