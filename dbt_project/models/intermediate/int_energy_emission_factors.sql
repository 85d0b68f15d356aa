{#- The emission factors of each energy site: diesel (kg CO2-e or CO2 per L) and grid electricity
    (kg per kWh) as int_carbon_meter_factors chose them for the site's carbon meters from its
    `carbon:` settings (null when the site counts no fuel meter, or names no grid region), and
    solar PV's lifecycle factor from the emission-factor seed (edition var
    `solar_lifecycle_edition`: IPCC AR5 rooftop median). -#}
with

settings as (
    select site_id from {{ ref('stg_site_config__energy_settings') }}
),

meter_factors as (
    select * from {{ ref('int_carbon_meter_factors') }}
),

factors as (
    select * from {{ ref('emission_factors') }}
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

final as (
    select
        settings.site_id,
        site_factors.diesel_kg_per_l,
        site_factors.grid_kg_per_kwh,
        factors.factor as solar_kg_per_kwh
    from settings
    left join site_factors
        on settings.site_id = site_factors.site_id
    cross join factors
)

select * from final
