{#- Materials settings of each site (defaults where the site has none)
    (`<lake_root>/config/materials_settings/site=<site_id>.parquet`); typed and empty before any
    site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_settings'),
        [
            ['site_id', 'varchar'],
            ['currency', 'varchar'],
            ['expiry_alert_days', 'integer'],
            ['margin_floor_pct', 'double precision'],
            ['margin_fall_pct_points', 'double precision'],
            ['price_rise_alert_pct', 'double precision'],
            ['yield_alert_pct', 'double precision'],
            ['service_level', 'double precision'],
            ['holding_cost_rate', 'double precision'],
            ['order_cost', 'double precision'],
            ['otif_tolerance_pct', 'double precision'],
            ['labour_rate_per_hour', 'double precision'],
            ['overhead_rate_per_m2', 'double precision'],
            ['overhead_pct', 'double precision'],
            ['consumables_per_m2', 'double precision'],
            ['default_film_um', 'double precision'],
            ['oven_energy_price_per_kwh', 'double precision']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        currency,
        expiry_alert_days,
        margin_floor_pct,
        margin_fall_pct_points,
        price_rise_alert_pct,
        yield_alert_pct,
        service_level,
        holding_cost_rate,
        order_cost,
        otif_tolerance_pct,
        labour_rate_per_hour,
        overhead_rate_per_m2,
        overhead_pct,
        consumables_per_m2,
        default_film_um,
        oven_energy_price_per_kwh
    from source
)

select * from renamed
