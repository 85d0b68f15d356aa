{{ config(**partitioned_by_day_config('day')) }}

{#- The hours of customer meters whose volume is above the burst threshold: burst_q3_fraction x
    Q3 (the meter's, else the site default; m3/h) x 1 h. Incremental by day, so that the burst
    events (fct_meter_events) never rescan the hourly volumes. -#}
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
        q3_m3_per_h
    from {{ ref('dim_metering_meters') }}
),

final as (
    select
        hours.site_id,
        hours.meter_id,
        hours.day,
        hours.hour_start,
        hours.volume_m3,
        settings.burst_q3_fraction
        * coalesce(meters.q3_m3_per_h, settings.default_q3_m3_per_h) as threshold_m3
    from hours
    inner join settings
        on hours.site_id = settings.site_id
    left join meters
        on hours.site_id = meters.site_id
        and hours.meter_id = meters.meter_id
    where hours.volume_m3
        > settings.burst_q3_fraction * coalesce(meters.q3_m3_per_h, settings.default_q3_m3_per_h)
)

select * from final
