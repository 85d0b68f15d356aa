{#- The emission factors of each energy site: diesel (kg CO2-e or CO2 per L) and grid electricity
    (kg per kWh) as int_carbon_meter_factors chose them for the site's carbon meters, or, for a
    site that counts no such meter (gensets fed from a tank without a fuel meter of their own),
    the same choice made from its `carbon:` settings: the site's own diesel factor, else the
    seed's row for its fuel region and edition; the seed's grid row for its grid region and
    edition (null without one). Solar PV's lifecycle factor comes from the emission-factor seed
    (edition var `solar_lifecycle_edition`: IPCC AR5 rooftop median). -#}
with

settings as (
    select site_id from {{ ref('stg_site_config__energy_settings') }}
),

carbon_settings as (
    select * from {{ ref('stg_site_config__carbon_settings') }}
),

meter_factors as (
    select * from {{ ref('int_carbon_meter_factors') }}
),

seed as (
    select * from {{ ref('emission_factors') }}
),

solar as (
    select factor from seed
    where activity = 'solar_pv_lifecycle'
        and region = 'GLOBAL'
        and edition = '{{ var("solar_lifecycle_edition") }}'
),

site_factors as (
    select
        site_id,
        max(case when activity = 'diesel' then factor_kg_per_unit end) as diesel_kg_per_l,
        max(case when activity = 'grid_electricity' then factor_kg_per_unit end)
            as grid_kg_per_kwh
    from meter_factors
    group by site_id
),

-- the factors the site's settings name, whether or not a meter counts for them
configured as (
    select
        carbon_settings.site_id,
        coalesce(carbon_settings.diesel_factor_kg_per_l, diesel.factor) as diesel_kg_per_l,
        grid.factor as grid_kg_per_kwh
    from carbon_settings
    left join seed as diesel
        on carbon_settings.fuel_region = diesel.region
        and carbon_settings.fuel_edition = diesel.edition
        and diesel.activity = 'diesel'
        and diesel.scope = 1
    left join seed as grid
        on carbon_settings.grid_region = grid.region
        and carbon_settings.grid_edition = grid.edition
        and grid.activity = 'grid_electricity'
        and grid.scope = 2
),

final as (
    select
        settings.site_id,
        coalesce(site_factors.diesel_kg_per_l, configured.diesel_kg_per_l) as diesel_kg_per_l,
        coalesce(site_factors.grid_kg_per_kwh, configured.grid_kg_per_kwh) as grid_kg_per_kwh,
        solar.factor as solar_kg_per_kwh
    from settings
    left join site_factors
        on settings.site_id = site_factors.site_id
    left join configured
        on settings.site_id = configured.site_id
    cross join solar
)

select * from final
