{#- Device health of every customer meter and site-local day, from its first day with data to
    the site's last day of metering data (days without any reading included):
    - readings: readings that closed in the day; expected_readings = 1440 / the meter's
      reading interval (minutes);
    - last_seen_at: the meter's last reading up to the day's end (carried over silent days);
    - battery_pct, signal_dbm: the day's last reported values; reboots: reboot events reported
      in the day;
    - status: offline when the last reading is older than offline_after_intervals reading
      intervals at the day's end; else warning on low battery (below low_battery_pct), weak
      signal (below weak_signal_dbm), reboots or partial reporting (fewer readings than
      expected); else online;
    - health_score (0-100): 0 when offline, else 100 - 50 x (1 - min(readings / expected, 1))
      - 20 if low battery - 15 if weak signal - 5 x min(reboots, 3), at least 0;
    - issues: the findings joined with '; ' (null when none). -#}
with

settings as (
    select * from {{ ref('int_metering_settings') }}
),

days as (
    select * from {{ ref('fct_meter_consumption_daily') }}
),

meters as (
    select
        site_id,
        meter_id,
        reading_interval_minutes
    from {{ ref('dim_metering_meters') }}
),

reboots as (
    select
        site_id,
        meter_id,
        day,
        count(*) as reboots
    from {{ ref('fct_meter_events') }}
    where event_type = 'reboot'
        and source = 'meter'
    group by all
),

site_last_days as (
    select
        site_id,
        max(day) as last_day
    from days
    group by site_id
),

first_days as (
    select
        site_id,
        meter_id,
        min(day) filter (where readings > 0) as first_day
    from days
    group by site_id, meter_id
),

spine as (
    select
        first_days.site_id,
        first_days.meter_id,
        {{ unnest_days('first_days.first_day', 'site_last_days.last_day') }} as day
    from first_days
    inner join site_last_days
        on first_days.site_id = site_last_days.site_id
    where first_days.first_day is not null
),

joined as (
    select
        spine.site_id,
        spine.meter_id,
        spine.day,
        coalesce(days.readings, 0) as readings,
        1440.0 / coalesce(meters.reading_interval_minutes, 60) as expected_readings,
        max(days.last_reading_at) over (
            partition by spine.site_id, spine.meter_id
            order by spine.day
            rows between unbounded preceding and current row
        ) as last_seen_at,
        days.battery_pct,
        days.signal_dbm,
        cast(coalesce(reboots.reboots, 0) as integer) as reboots,
        {{ local_to_utc(add_days('spine.day', 1), 'settings.timezone') }}
        - to_minutes(
            settings.offline_after_intervals * coalesce(meters.reading_interval_minutes, 60)
        ) as online_since,
        settings.low_battery_pct,
        settings.weak_signal_dbm
    from spine
    inner join settings
        on spine.site_id = settings.site_id
    left join meters
        on spine.site_id = meters.site_id
        and spine.meter_id = meters.meter_id
    left join days
        on spine.site_id = days.site_id
        and spine.meter_id = days.meter_id
        and spine.day = days.day
    left join reboots
        on spine.site_id = reboots.site_id
        and spine.meter_id = reboots.meter_id
        and spine.day = reboots.day
),

flagged as (
    select
        *,
        last_seen_at is null or last_seen_at < online_since as is_offline,
        coalesce(battery_pct < low_battery_pct, false) as is_low_battery,
        coalesce(signal_dbm < weak_signal_dbm, false) as is_weak_signal,
        readings < expected_readings as is_partial
    from joined
),

final as (
    select
        site_id,
        meter_id,
        day,
        cast(readings as integer) as readings,
        expected_readings,
        last_seen_at,
        battery_pct,
        signal_dbm,
        reboots,
        case
            when is_offline then 'offline'
            when is_low_battery or is_weak_signal or reboots > 0 or is_partial then 'warning'
            else 'online'
        end as status,
        cast(case
            when is_offline then 0
            else greatest(
                0,
                round(
                    100
                    - 50 * (1 - least(readings / expected_readings, 1))
                    - case when is_low_battery then 20 else 0 end
                    - case when is_weak_signal then 15 else 0 end
                    - 5 * least(reboots, 3)
                )
            )
        end as integer) as health_score,
        nullif(concat_ws(
            '; ',
            case when is_offline then 'offline' end,
            case when is_partial and not is_offline then 'partial reporting' end,
            case when is_low_battery then 'low battery' end,
            case when is_weak_signal then 'weak signal' end,
            case when reboots > 0 then 'reboots' end
        ), '') as issues
    from flagged
)

select * from final
