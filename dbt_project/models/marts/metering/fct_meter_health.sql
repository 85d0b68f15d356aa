{#- The latest day of every customer meter's health (fct_meter_health_daily), with days_offline:
    whole days from the site-local day of its last reading to that day when offline (0 when
    not offline). -#}
with

health as (
    select * from {{ ref('fct_meter_health_daily') }}
    qualify row_number() over (partition by site_id, meter_id order by day desc) = 1
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
