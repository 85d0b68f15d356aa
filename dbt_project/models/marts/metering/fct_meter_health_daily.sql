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
    - issues: the findings joined with '; ' (null when none).
    A window run (start_day set) recomputes each site from the window's first day, or an
    earlier day whose reboot count changed (a late event file), to its last day; the last seen
    instant of the day before comes from this model's own rows. -#}
{{ config(**partitioned_by_day_config('day')) }}

{%- set window_start = rewrite_window()[0] %}
{%- set carry = is_incremental() and window_start is not none %}

with

settings as (
    select * from {{ ref('int_metering_settings') }}
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

recompute_from as (
    select
        settings.site_id,
        {% if carry %}
            least(
                {{ _day_literal(window_start) }},
                coalesce(reboot_changes.first_day, {{ _day_literal(window_start) }}),
                -- no gap after what the model holds; a site it holds nothing of: every day
                coalesce({{ add_days('held_days.last_day', 1) }}, cast('0001-01-01' as date))
            )
        {% else %}
            cast(null as date)
        {% endif %} as recompute_from
    from settings
    {% if carry %}
        left join (
            select
                site_id,
                max(day) as last_day
            from {{ this }}
            group by site_id
        ) as held_days
            on settings.site_id = held_days.site_id
        left join (
            select
                coalesce(given.site_id, held.site_id) as site_id,
                min(coalesce(given.day, held.day)) as first_day
            from reboots as given
            full outer join (
                select site_id, meter_id, day, reboots
                from {{ this }}
                where reboots > 0
            ) as held
                on given.site_id = held.site_id
                and given.meter_id = held.meter_id
                and given.day = held.day
            where given.reboots is distinct from held.reboots
            group by 1
        ) as reboot_changes
            on settings.site_id = reboot_changes.site_id
        where {{ in_site_window('settings.site_id') }}
    {% endif %}
),

days as (
    select meter_days.*
    from {{ ref('fct_meter_consumption_daily') }} as meter_days
    {% if carry %}
        inner join recompute_from
            on meter_days.site_id = recompute_from.site_id
            and meter_days.day >= recompute_from.recompute_from
    {% endif %}
),

-- the meters this model holds on the day before the first recomputed day, with their last
-- seen instant
held as (
    {% if carry %}
        select
            this_model.site_id,
            this_model.meter_id,
            this_model.last_seen_at
        from {{ this }} as this_model
        inner join recompute_from
            on this_model.site_id = recompute_from.site_id
            and this_model.day = {{ add_days('recompute_from.recompute_from', -1) }}
    {% else %}
        select
            cast(null as varchar) as site_id,
            cast(null as varchar) as meter_id,
            cast(null as timestamp with time zone) as last_seen_at
        where false
    {% endif %}
),

meters as (
    select
        site_id,
        meter_id,
        reading_interval_minutes
    from {{ ref('dim_metering_meters') }}
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
        min(day) as first_day
    from (
        select site_id, meter_id, day from days
        where readings > 0
        union all
        select
            held.site_id,
            held.meter_id,
            recompute_from.recompute_from as day
        from held
        inner join recompute_from
            on held.site_id = recompute_from.site_id
    ) as active_days
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
        greatest(
            max(days.last_reading_at) over (
                partition by spine.site_id, spine.meter_id
                order by spine.day
                rows between unbounded preceding and current row
            ),
            held.last_seen_at
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
    left join held
        on spine.site_id = held.site_id
        and spine.meter_id = held.meter_id
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
        low_battery_pct,
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
