{{ config(**partitioned_by_day_config('day')) }}

{#- Volume through each customer meter per site-local hour, in one sort of the readings: one
    window over each meter's readings in time order finds the hour each reading closes (a reading
    at 01:00 closes 00:00-01:00), whether it opens or closes that hour, and the reading before it,
    which is the last reading of the meter's previous reported hour when it opens one. An hour of
    one reading (an hourly meter's every hour) is then a row as it stands; only hours of several
    readings (sub-hourly meters, re-delivered readings) are aggregated. Register volumes are
    differences of register values, so a reading delivered twice changes nothing; interval
    readings and `readings` count every row (the importer skips re-delivered identical records).
    - Register meters: an hour's volume is the register at its last reading minus the register
      at the last reading of the meter's previous reported hour. A register that falls (beyond
      the jitter) between them or within the hour is a reset or a replaced meter, counted from
      zero: the volume is the new register value, never negative use.
    - Interval meters: the hour's interval volumes added up.
    - When hours passed without a report since the previous reported hour, the volume is spread
      evenly over those hours and the reported one (a daily-read meter's day over its 24 hours);
      when the meter was silent longer than 1.5 reading intervals before the hour's first
      reading it is a reporting gap, flagged in gap_m3, and the silent hours have readings = 0
      (a meter read every 15 minutes has a reading 15 minutes into each hour: no gap).
    - Reverse volume: the rise of the reverse register, the same way.
    Differences of times are taken in integer microseconds (`epoch_us`), not as intervals.
    A window run reads the readings from the day before its window, so the first hour of the
    window has its previous hour, and of the day after it: the reading at 00:00 closes the last
    hour of the day before (and lies in the next day's folder). -#}
with

settings as (
    select
        site_id,
        timezone,
        has_dst,
        utc_offset_us
    from {{ ref('int_metering_settings') }}
),

meters as (
    select
        site_id,
        meter_id,
        reading_interval_minutes
    from {{ ref('dim_metering_meters') }}
),

readings as (
    select
        readings.site_id,
        readings.meter_id,
        readings.read_at,
        readings.loaded_at,
        readings.register_m3,
        readings.interval_m3,
        readings.reverse_m3,
        readings.battery_pct,
        readings.signal_dbm,
        date_trunc(
            'hour',
            {{ metering_to_local('readings.read_at', 'settings') }} - interval '1 microsecond'
        ) as hour_local
    from {{ ref('stg_metering__readings') }} as readings
    inner join settings
        on readings.site_id = settings.site_id
    where {{ in_day_window('readings.partition_day', before=1, after=1) }}
        and {{ in_site_window('readings.site_id') }}
        and readings.read_at is not null
),

-- each reading beside its neighbours in the meter's time order (re-deliveries by load time)
ordered as (
    select
        *,
        lag(hour_local) over meter_readings as previous_row_hour_local,
        lead(hour_local) over meter_readings as next_row_hour_local,
        lag(read_at) over meter_readings as previous_row_read_at,
        lag(register_m3) over meter_readings as previous_row_register_m3,
        lag(reverse_m3) over meter_readings as previous_row_reverse_m3
    from readings
    window meter_readings as (partition by site_id, meter_id order by read_at, loaded_at)
),

flagged as (
    select
        *,
        -- the first / last reading of the meter, or of its hour
        coalesce(previous_row_hour_local != hour_local, true) as opens_hour,
        coalesce(next_row_hour_local != hour_local, true) as closes_hour
    from ordered
),

-- one row per reported hour, with the last reading of the meter's previous reported hour
sequenced as (
    -- an hour of one reading: the reading is the hour
    select
        site_id,
        meter_id,
        hour_local,
        1 as readings,
        read_at as first_reading_at,
        read_at as last_reading_at,
        register_m3 as last_register_m3,
        register_m3 as min_register_m3,
        interval_m3 as interval_volume_m3,
        reverse_m3 as last_reverse_m3,
        reverse_m3 as min_reverse_m3,
        battery_pct,
        signal_dbm,
        previous_row_hour_local as previous_hour_local,
        previous_row_read_at as previous_reading_at,
        previous_row_register_m3 as previous_register_m3,
        previous_row_reverse_m3 as previous_reverse_m3
    from flagged
    where opens_hour and closes_hour
    union all
    -- an hour of several readings: aggregated; the previous hour is seen from its first reading
    select
        site_id,
        meter_id,
        hour_local,
        count(*) as readings,
        min(read_at) as first_reading_at,
        max(read_at) as last_reading_at,
        {{ value_at_max('register_m3', 'read_at') }} as last_register_m3,
        min(register_m3) as min_register_m3,
        sum(interval_m3) as interval_volume_m3,
        {{ value_at_max('reverse_m3', 'read_at') }} as last_reverse_m3,
        min(reverse_m3) as min_reverse_m3,
        {{ value_at_max('battery_pct', 'read_at') }} as battery_pct,
        {{ value_at_max('signal_dbm', 'read_at') }} as signal_dbm,
        max(previous_row_hour_local) filter (where opens_hour) as previous_hour_local,
        max(previous_row_read_at) filter (where opens_hour) as previous_reading_at,
        max(previous_row_register_m3) filter (where opens_hour) as previous_register_m3,
        max(previous_row_reverse_m3) filter (where opens_hour) as previous_reverse_m3
    from flagged
    where not (opens_hour and closes_hour)
    group by site_id, meter_id, hour_local
),

volumes as (
    select
        sequenced.site_id,
        sequenced.meter_id,
        sequenced.hour_local,
        sequenced.previous_hour_local,
        sequenced.readings,
        sequenced.last_reading_at,
        sequenced.battery_pct,
        sequenced.signal_dbm,
        case
            when sequenced.last_register_m3 is null
                then coalesce(sequenced.interval_volume_m3, 0)
            when sequenced.previous_register_m3 is null then 0
            -- a fall since the previous hour's last reading (between the hours or within
            -- this one): counted from zero
            when sequenced.min_register_m3
                < sequenced.previous_register_m3 - {{ var('totaliser_jitter_m3') }}
                then sequenced.last_register_m3
            else greatest(sequenced.last_register_m3 - sequenced.previous_register_m3, 0)
        end as volume_m3,
        case
            when sequenced.last_reverse_m3 is null or sequenced.previous_reverse_m3 is null then 0
            when sequenced.min_reverse_m3
                < sequenced.previous_reverse_m3 - {{ var('totaliser_jitter_m3') }}
                then sequenced.last_reverse_m3
            else greatest(sequenced.last_reverse_m3 - sequenced.previous_reverse_m3, 0)
        end as reverse_volume_m3,
        coalesce(
            sequenced.min_register_m3
            < sequenced.previous_register_m3 - {{ var('totaliser_jitter_m3') }},
            false
        ) as is_reset,
        -- hours since the previous reported hour (1 = consecutive)
        coalesce(
            cast(
                (epoch_us(sequenced.hour_local) - epoch_us(sequenced.previous_hour_local))
                // 3600000000 as integer
            ),
            1
        ) as span_hours,
        coalesce(
            epoch_us(sequenced.first_reading_at) - epoch_us(sequenced.previous_reading_at)
            > cast(90000000 as bigint) * coalesce(meters.reading_interval_minutes, 60)
            and sequenced.last_register_m3 is not null,
            false
        ) as is_gap
    from sequenced
    left join meters
        on sequenced.site_id = meters.site_id
        and sequenced.meter_id = meters.meter_id
),

-- a reported hour after silent ones shares its volume evenly with them
spread as (
    select
        *,
        unnest(
            case
                when span_hours <= 1 or previous_hour_local is null then [hour_local]
                else generate_series(
                    previous_hour_local + interval '1 hour', hour_local, interval '1 hour'
                )
            end
        ) as spread_hour_local
    from volumes
),

hourly as (
    select
        spread.site_id,
        spread.meter_id,
        spread.spread_hour_local as hour_local,
        spread.volume_m3 / greatest(spread.span_hours, 1) as volume_m3,
        spread.reverse_volume_m3 / greatest(spread.span_hours, 1) as reverse_m3,
        case
            when spread.is_gap then spread.volume_m3 / greatest(spread.span_hours, 1) else 0
        end as gap_m3,
        case when spread.spread_hour_local = spread.hour_local then spread.readings else 0 end
            as readings,
        case
            when spread.spread_hour_local = spread.hour_local and spread.is_reset then 1 else 0
        end as resets,
        case
            when spread.spread_hour_local = spread.hour_local then spread.last_reading_at
        end as last_reading_at,
        case when spread.spread_hour_local = spread.hour_local then spread.battery_pct end
            as battery_pct,
        case when spread.spread_hour_local = spread.hour_local then spread.signal_dbm end
            as signal_dbm,
        {{ metering_to_utc('spread.spread_hour_local', 'settings') }} as hour_start
    from spread
    inner join settings
        on spread.site_id = settings.site_id
    where {{ in_day_window('cast(spread.spread_hour_local as date)') }}
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
        hourly.hour_start,
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
        and hourly.hour_start >= meter_versions.valid_from
        and hourly.hour_start < meter_versions.valid_to
)

select * from final
