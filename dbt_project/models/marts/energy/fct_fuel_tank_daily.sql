{{ config(**partitioned_by_day_config('day')) }}

{#- Each fuel tank's daily balance: opening and closing contents from its level meter, litres
    delivered, litres drawn (opening + delivered - closing), the litres its generators' fuel
    meters account for and the rest (unaccounted: leaks, theft, unmetered users), with the
    site's alert threshold. -#}
with

tank_days as (
    select * from {{ ref('int_energy_tank_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

settings as (
    select * from {{ ref('stg_site_config__energy_settings') }}
),

final as (
    select
        tank_days.site_id,
        tank_days.tank_id,
        tank_days.day,
        tank_days.opening_l,
        tank_days.closing_l,
        tank_days.delivered_l,
        tank_days.drawn_l,
        tank_days.metered_use_l,
        tank_days.unaccounted_l,
        settings.unaccounted_alert_l_per_day
    from tank_days
    left join settings
        on tank_days.site_id = settings.site_id
)

select * from final
