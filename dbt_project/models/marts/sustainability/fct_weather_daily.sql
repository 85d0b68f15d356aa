{#- The weather station's day (docs/air-quality.md): mean wind speed and humidity from complete
    hourly means, and the vector-mean wind direction: the direction of the mean of the hourly unit
    vectors, atan2(mean sin, mean cos), in degrees 0-360 (an arithmetic mean of 350 and 10 would
    say 180). Its steadiness is that mean vector's length: 1 when the wind held one direction all
    day, near 0 when it went round. A variable below min_completeness_pct of the 24 hours has no
    daily value. -#}
with

hourly as (
    select * from {{ ref('int_air_quality_hourly') }}
    where role in ('wind_speed', 'wind_direction', 'humidity')
        and is_complete_hour
),

settings as (
    select * from {{ ref('stg_site_config__air_quality_settings') }}
),

per_variable as (
    select
        site_id,
        day,
        role,
        count(*) as n_hours,
        round(avg(mean_value), 6) as mean_value,
        avg(mean_sin) as mean_sin,
        avg(mean_cos) as mean_cos
    from hourly
    group by site_id, day, role
),

complete as (
    select
        per_variable.*,
        100.0 * per_variable.n_hours / 24 >= settings.min_completeness_pct as is_complete,
        least(100.0, 100.0 * per_variable.n_hours / 24) as completeness_pct
    from per_variable
    inner join settings
        on per_variable.site_id = settings.site_id
),

days as (
    select distinct site_id, day from complete
),

final as (
    select
        days.site_id,
        days.day,
        case when speed.is_complete then speed.mean_value end as wind_speed_mean_m_s,
        coalesce(speed.completeness_pct, 0.0) as wind_speed_completeness_pct,
        case
            when direction.is_complete
                and sqrt(power(direction.mean_sin, 2) + power(direction.mean_cos, 2)) > 1e-9
                -- to 1e-6 degree, so that a north wind reads 0 and never 359.9999999999
                then round(degrees(atan2(direction.mean_sin, direction.mean_cos)) + 360, 6) % 360
        end as wind_direction_mean_deg,
        case
            when direction.is_complete
                then round(sqrt(power(direction.mean_sin, 2) + power(direction.mean_cos, 2)), 6)
        end as wind_direction_steadiness,
        coalesce(direction.completeness_pct, 0.0) as wind_direction_completeness_pct,
        case when humidity.is_complete then humidity.mean_value end as humidity_mean_pct,
        coalesce(humidity.completeness_pct, 0.0) as humidity_completeness_pct
    from days
    left join complete as speed
        on days.site_id = speed.site_id
        and days.day = speed.day
        and speed.role = 'wind_speed'
    left join complete as direction
        on days.site_id = direction.site_id
        and days.day = direction.day
        and direction.role = 'wind_direction'
    left join complete as humidity
        on days.site_id = humidity.site_id
        and days.day = humidity.day
        and humidity.role = 'humidity'
)

select * from final
