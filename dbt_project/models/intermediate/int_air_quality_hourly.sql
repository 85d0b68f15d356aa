{{ config(**partitioned_by_day_config('day')) }}

{#- Hourly means of the air quality meters (particulates and the weather station), per site-local
    clock hour: only valid received readings count (no invalid VEE flag; estimates never enter an
    air quality average). An hour is complete when it holds at least 75 % of the readings its
    meter's interval promises (3 of 4 at 15 minutes), as an hourly average of a continuous monitor
    needs. Wind direction also gets the mean of its unit vector (sin, cos), averaged as vectors
    downstream: 350 and 10 degrees average to 0, not 180. -#}
with

air_meters as (
    select * from {{ ref('stg_site_config__air_quality_meters') }}
    where {{ in_site_window('site_id') }}
),

meters as (
    select site_id, meter_id, interval_seconds
    from {{ ref('stg_site_config__meters') }}
),

sites as (
    select site_id, timezone from {{ ref('stg_site_config__sites') }}
),

readings as (
    select
        readings.site_id,
        readings.meter_id,
        readings.ts_utc,
        readings.reading_day,
        readings.validated_value
    from {{ ref('int_readings_validated') }} as readings
    where {{ in_day_window('readings.reading_day') }}
        and {{ in_site_window('readings.site_id') }}
        and readings.is_received
        and readings.estimation_reasons is null
        and readings.validated_value is not null
        and exists (
            select 1
            from air_meters
            where air_meters.site_id = readings.site_id
                and air_meters.meter_id = readings.meter_id
        )
),

local_hours as (
    select
        readings.site_id,
        readings.meter_id,
        readings.reading_day as day,
        date_trunc('hour', {{ utc_to_local('readings.ts_utc', 'sites.timezone') }}) as hour_local,
        readings.validated_value
    from readings
    inner join sites
        on readings.site_id = sites.site_id
),

hourly as (
    select
        site_id,
        meter_id,
        day,
        hour_local,
        count(*) as n_readings,
        -- rounded: a window run sums in another order, and the last bits must not move
        round(avg(validated_value), 9) as mean_value,
        -- + 0.0 turns a rounded -0.0 into 0.0
        round(avg(sin(radians(validated_value))), 9) + 0.0 as mean_sin,
        round(avg(cos(radians(validated_value))), 9) + 0.0 as mean_cos
    from local_hours
    group by site_id, meter_id, day, hour_local
),

final as (
    select
        hourly.site_id,
        hourly.meter_id,
        air_meters.role,
        air_meters.monitor_id,
        hourly.day,
        hourly.hour_local,
        hourly.n_readings,
        hourly.n_readings >= ceil(0.75 * greatest(3600.0 / meters.interval_seconds, 1))
            as is_complete_hour,
        hourly.mean_value,
        case when air_meters.role = 'wind_direction' then hourly.mean_sin end as mean_sin,
        case when air_meters.role = 'wind_direction' then hourly.mean_cos end as mean_cos
    from hourly
    inner join air_meters
        on hourly.site_id = air_meters.site_id
        and hourly.meter_id = air_meters.meter_id
    inner join meters
        on hourly.site_id = meters.site_id
        and hourly.meter_id = meters.meter_id
)

select * from final
