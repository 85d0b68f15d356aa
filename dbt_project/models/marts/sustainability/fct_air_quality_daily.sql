{#- Daily air quality per monitoring location: 24-hour mean PM10 and PM2.5 from complete hourly
    means, completeness, highest hourly mean, and the US EPA AQI per pollutant and overall
    (docs/air-quality.md). A 24-hour mean needs min_completeness_pct of the 24 hours (EPA: 75 %,
    18 hours); without it the day has no mean and no AQI. The AQI: the mean truncated (PM2.5 to
    0.1, PM10 to 1 ug/m3), the breakpoint band holding it, then
    I = (I_hi - I_lo) / (C_hi - C_lo) x (C - C_lo) + I_lo, rounded to a whole number; above the
    table's top the day is 'Beyond the AQI' and its AQI is held at 500. -#}
with

hourly as (
    select * from {{ ref('int_air_quality_hourly') }}
    where role in ('pm10', 'pm25')
),

settings as (
    select * from {{ ref('stg_site_config__air_quality_settings') }}
),

monitors as (
    select distinct site_id, monitor_id, monitor_name
    from {{ ref('stg_site_config__air_quality_meters') }}
    where monitor_id is not null
),

breakpoints as (
    {{ aqi_breakpoints() }}
),

table_tops as (
    select edition, pollutant, max(conc_hi) as conc_top
    from breakpoints
    group by edition, pollutant
),

per_pollutant as (
    select
        site_id,
        monitor_id,
        day,
        role as pollutant,
        count(case when is_complete_hour then 1 end) as n_hours,
        round(avg(case when is_complete_hour then mean_value end), 6) as mean_complete_hours,
        max(case when is_complete_hour then mean_value end) as max_hourly
    from hourly
    group by site_id, monitor_id, day, role
),

averaged as (
    select
        per_pollutant.site_id,
        per_pollutant.monitor_id,
        per_pollutant.day,
        per_pollutant.pollutant,
        per_pollutant.n_hours,
        least(100.0, 100.0 * per_pollutant.n_hours / 24) as completeness_pct,
        per_pollutant.max_hourly,
        case
            when 100.0 * per_pollutant.n_hours / 24 >= settings.min_completeness_pct
                then per_pollutant.mean_complete_hours
        end as mean_24h,
        settings.aqi_edition
    from per_pollutant
    inner join settings
        on per_pollutant.site_id = settings.site_id
),

truncated as (
    select
        *,
        case
            when pollutant = 'pm25' then {{ aqi_truncate('mean_24h', 'pm25') }}
            else {{ aqi_truncate('mean_24h', 'pm10') }}
        end as conc_truncated
    from averaged
),

indexed as (
    select
        truncated.*,
        case
            when truncated.conc_truncated > table_tops.conc_top then 500
            else cast(round(
                (breakpoints.aqi_hi - breakpoints.aqi_lo)
                / (breakpoints.conc_hi - breakpoints.conc_lo)
                * (truncated.conc_truncated - breakpoints.conc_lo)
                + breakpoints.aqi_lo
            ) as integer)
        end as aqi,
        case
            when truncated.conc_truncated > table_tops.conc_top then 'Beyond the AQI'
            else breakpoints.category
        end as category
    from truncated
    left join table_tops
        on truncated.aqi_edition = table_tops.edition
        and truncated.pollutant = table_tops.pollutant
    left join breakpoints
        on truncated.aqi_edition = breakpoints.edition
        and truncated.pollutant = breakpoints.pollutant
        and truncated.conc_truncated >= breakpoints.conc_lo - 1e-9
        and truncated.conc_truncated <= breakpoints.conc_hi + 1e-9
),

days as (
    select distinct site_id, monitor_id, day from indexed
),

final as (
    select
        days.site_id,
        days.monitor_id,
        monitors.monitor_name,
        days.day,
        settings.aqi_edition,
        pm10.mean_24h as pm10_24h_ug_m3,
        coalesce(pm10.completeness_pct, 0.0) as pm10_completeness_pct,
        pm10.max_hourly as pm10_max_hourly_ug_m3,
        pm10.conc_truncated as pm10_truncated_ug_m3,
        pm10.aqi as pm10_aqi,
        pm10.category as pm10_category,
        pm25.mean_24h as pm25_24h_ug_m3,
        coalesce(pm25.completeness_pct, 0.0) as pm25_completeness_pct,
        pm25.max_hourly as pm25_max_hourly_ug_m3,
        pm25.conc_truncated as pm25_truncated_ug_m3,
        pm25.aqi as pm25_aqi,
        pm25.category as pm25_category,
        -- the higher sub-index; PM2.5 on a tie
        case
            when pm25.aqi is not null and (pm10.aqi is null or pm25.aqi >= pm10.aqi) then pm25.aqi
            else pm10.aqi
        end as aqi,
        case
            when pm25.aqi is not null and (pm10.aqi is null or pm25.aqi >= pm10.aqi)
                then pm25.category
            else pm10.category
        end as aqi_category,
        case
            when pm25.aqi is not null and (pm10.aqi is null or pm25.aqi >= pm10.aqi) then 'pm25'
            when pm10.aqi is not null then 'pm10'
        end as dominant_pollutant,
        settings.trigger_pm10_ug_m3,
        pm10.mean_24h >= settings.trigger_pm10_ug_m3 as is_high_dust_day
    from days
    inner join settings
        on days.site_id = settings.site_id
    left join monitors
        on days.site_id = monitors.site_id
        and days.monitor_id = monitors.monitor_id
    left join indexed as pm10
        on days.site_id = pm10.site_id
        and days.monitor_id = pm10.monitor_id
        and days.day = pm10.day
        and pm10.pollutant = 'pm10'
    left join indexed as pm25
        on days.site_id = pm25.site_id
        and days.monitor_id = pm25.monitor_id
        and days.day = pm25.day
        and pm25.pollutant = 'pm25'
)

select * from final
