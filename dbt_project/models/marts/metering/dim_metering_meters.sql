{#- The current state of every customer meter: the latest version of its action log
    (int_metering_meter_versions), active unless the latest action deactivated it, with the
    effective Q3 (its own, else the site's default) and reading interval (default 60 min). -#}
with

versions as (
    select * from {{ ref('int_metering_meter_versions') }}
),

settings as (
    select * from {{ ref('int_metering_settings') }}
),

latest as (
    select * from versions
    where valid_to = cast('infinity' as timestamp with time zone)
),

final as (
    select
        latest.site_id,
        latest.meter_id,
        latest.customer_id,
        latest.meter_type,
        coalesce(latest.q3_m3_per_h_given, settings.default_q3_m3_per_h) as q3_m3_per_h,
        latest.install_date,
        latest.location,
        latest.latitude,
        latest.longitude,
        latest.communication,
        latest.reading_interval_minutes,
        latest.is_active as active
    from latest
    left join settings
        on latest.site_id = settings.site_id
)

select * from final
