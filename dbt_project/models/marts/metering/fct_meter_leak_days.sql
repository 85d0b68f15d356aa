{#- Leak classification of every customer meter day (fct_meter_consumption_daily), first match:
    - continuous: no zero-flow hour in the day: all 24 local hours reported and flowing (flow of
      at least zero_flow_l_per_h);
    - intermittent: at least intermittent_min_hours flowing hours and a night minimum above
      zero_flow_l_per_h (water ran through every reported night hour);
    - night_flow: the night minimum (night_start to night_end, local) above night_flow_l_per_h.
    A day that is not fresh (the meter did not report through the day) is never a leak: a
    stale reading is the classic false leak alarm.
    Each day depends on its own row only: incremental by day, a window run classifies the
    window's days. -#}
{{ config(**partitioned_by_day_config('day')) }}

with

days as (
    select * from {{ ref('fct_meter_consumption_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

settings as (
    select * from {{ ref('int_metering_settings') }}
),

classified as (
    select
        days.site_id,
        days.meter_id,
        days.customer_id,
        days.day,
        case
            when not days.fresh then null
            when days.flowing_hours >= 24 and days.zero_flow_hours = 0 then 'continuous'
            when days.flowing_hours >= settings.intermittent_min_hours
                and days.night_min_flow_l_per_h > settings.zero_flow_l_per_h
                then 'intermittent'
            when days.night_min_flow_l_per_h > settings.night_flow_l_per_h then 'night_flow'
        end as leak_kind,
        days.flowing_hours,
        days.zero_flow_hours,
        days.night_min_flow_l_per_h,
        days.volume_m3,
        days.fresh
    from days
    inner join settings
        on days.site_id = settings.site_id
),

final as (
    select
        site_id,
        meter_id,
        customer_id,
        day,
        leak_kind,
        leak_kind is not null as leak,
        flowing_hours,
        zero_flow_hours,
        night_min_flow_l_per_h,
        volume_m3,
        fresh
    from classified
)

select * from final
