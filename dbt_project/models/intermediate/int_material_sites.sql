{#- One row per site with materials records or settings: its materials settings (the defaults
    of siteledger/site/materials.py where the site tables hold no row) and the day the
    materials marts stand at: the var `materials_as_of_day` when given, else the site's last
    local day with a stock movement, so that ages, expiry and the trailing year follow the data
    rather than the wall clock. -#}
with

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

settings as (
    select * from {{ ref('stg_site_config__materials_settings') }}
),

sites as (
    select * from {{ ref('stg_site_config__sites') }}
),

last_days as (
    select
        site_id,
        min(local_day) as first_day,
        max(local_day) as last_day
    from ledger
    group by site_id
),

site_ids as (
    select site_id from last_days
    union
    select site_id from settings
),

final as (
    select
        site_ids.site_id,
        coalesce(sites.timezone, 'UTC') as timezone,
        settings.currency,
        last_days.first_day,
        {%- if var('materials_as_of_day', none) %}
        cast('{{ var("materials_as_of_day") }}' as date) as as_of_day,
        {%- else %}
        last_days.last_day as as_of_day,
        {%- endif %}
        coalesce(settings.expiry_alert_days, 30) as expiry_alert_days,
        coalesce(settings.margin_floor_pct, 20) as margin_floor_pct,
        coalesce(settings.margin_fall_pct_points, 5) as margin_fall_pct_points,
        coalesce(settings.price_rise_alert_pct, 10) as price_rise_alert_pct,
        coalesce(settings.yield_alert_pct, 95) as yield_alert_pct,
        coalesce(settings.service_level, 0.95) as service_level,
        coalesce(settings.holding_cost_rate, 0.25) as holding_cost_rate,
        coalesce(settings.order_cost, 40) as order_cost,
        coalesce(settings.otif_tolerance_pct, 2) as otif_tolerance_pct
    from site_ids
    left join settings
        on site_ids.site_id = settings.site_id
    left join sites
        on site_ids.site_id = sites.site_id
    left join last_days
        on site_ids.site_id = last_days.site_id
)

select * from final
