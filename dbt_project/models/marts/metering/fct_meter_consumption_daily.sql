{{ config(**partitioned_by_day_config('day')) }}

{#- Each customer meter's site-local day, from its hours (fct_meter_consumption_hourly). An hour
    flows when its volume is at least zero_flow_l_per_h (per hour); flowing and zero-flow hours
    count only the hours the meter reported in (a reading closes in the hour), so a gap spread
    over hours never looks like continuous flow. Night: the local hours [night_start,
    night_end); peak: the local hours that start a peak hour. `fresh`: the meter's last reading
    of the day is no older than offline_after_intervals reading intervals before the day's end
    (a day a stale meter did not report through is never a leak). The customer is the one the
    meter served at the day's last hour. -#}
with

hours as (
    select * from {{ ref('fct_meter_consumption_hourly') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

settings as (
    select * from {{ ref('int_metering_settings') }}
),

meters as (
    select
        site_id,
        meter_id,
        reading_interval_minutes
    from {{ ref('dim_metering_meters') }}
),

daily as (
    select
        hours.site_id,
        hours.meter_id,
        hours.day,
        {{ value_at_max('hours.customer_id', 'hours.hour_start') }} as customer_id,
        sum(hours.volume_m3) as volume_m3,
        sum(hours.reverse_m3) as reverse_m3,
        sum(hours.gap_m3) as gap_m3,
        cast(sum(hours.readings) as integer) as readings,
        cast(count(*) filter (where hours.readings > 0) as integer) as hours_reported,
        cast(count(*) filter (
            where hours.readings > 0
            and hours.volume_m3 * 1000 >= settings.zero_flow_l_per_h
        ) as integer) as flowing_hours,
        cast(count(*) filter (
            where hours.readings > 0
            and hours.volume_m3 * 1000 < settings.zero_flow_l_per_h
        ) as integer) as zero_flow_hours,
        min(hours.volume_m3 * 1000) filter (
            where hours.readings > 0
            and list_contains(settings.night_hours, hours.local_hour)
        ) as night_min_flow_l_per_h,
        coalesce(sum(hours.volume_m3) filter (
            where list_contains(settings.night_hours, hours.local_hour)
        ), 0) as night_volume_m3,
        coalesce(sum(hours.volume_m3) filter (
            where list_contains(settings.peak_hour_list, hours.local_hour)
        ), 0) as peak_volume_m3,
        max(hours.last_reading_at) as last_reading_at,
        {{ value_at_max('hours.battery_pct', 'hours.hour_start') }} as battery_pct,
        {{ value_at_max('hours.signal_dbm', 'hours.hour_start') }} as signal_dbm,
        cast(sum(hours.resets) as integer) as resets,
        any_value(settings.timezone) as timezone,
        any_value(settings.offline_after_intervals) as offline_after_intervals
    from hours
    inner join settings
        on hours.site_id = settings.site_id
    group by hours.site_id, hours.meter_id, hours.day
),

final as (
    select
        daily.site_id,
        daily.meter_id,
        daily.customer_id,
        daily.day,
        daily.volume_m3,
        daily.reverse_m3,
        daily.gap_m3,
        daily.readings,
        daily.hours_reported,
        daily.flowing_hours,
        daily.zero_flow_hours,
        daily.night_min_flow_l_per_h,
        daily.night_volume_m3,
        daily.peak_volume_m3,
        daily.last_reading_at,
        daily.battery_pct,
        daily.signal_dbm,
        daily.resets,
        coalesce(
            daily.last_reading_at >= {{ local_to_utc(add_days('daily.day', 1), 'daily.timezone') }}
            - to_minutes(
                daily.offline_after_intervals * coalesce(meters.reading_interval_minutes, 60)
            ),
            false
        ) as fresh
    from daily
    left join meters
        on daily.site_id = meters.site_id
        and daily.meter_id = meters.meter_id
)

select * from final
