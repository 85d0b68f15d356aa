{#- The latest day of every customer meter's health (fct_meter_health_daily), with days_offline:
    whole days from the site-local day of its last reading to that day when offline (0 when
    not offline). -#}
with

health_days as (
    select * from {{ ref('fct_meter_health_daily') }}
),

-- a hash aggregate of three columns, then a join: no sort of every meter day
latest_days as (
    select
        site_id,
        meter_id,
        max(day) as day
    from health_days
    group by site_id, meter_id
),

health as (
    select health_days.*
    from health_days
    inner join latest_days
        on health_days.site_id = latest_days.site_id
        and health_days.meter_id = latest_days.meter_id
        and health_days.day = latest_days.day
),

settings as (
    select
        site_id,
        timezone
    from {{ ref('int_metering_settings') }}
),

final as (
    select
        health.*,
        case
            when health.status = 'offline'
                then {{ dbt.datediff(
                    'cast(' ~ utc_to_local('health.last_seen_at', 'settings.timezone') ~ ' as date)',
                    'health.day',
                    'day'
                ) }}
            else 0
        end as days_offline
    from health
    inner join settings
        on health.site_id = settings.site_id
)

select * from final
