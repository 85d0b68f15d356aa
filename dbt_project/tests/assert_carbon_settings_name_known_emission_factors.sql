-- a check on the settings whose claim this is (it reads the seed too)
{{ config(meta={'dagster': {'ref': {'name': 'stg_site_config__carbon_settings'}}}) }}

{#- Every site's carbon settings name factors the emission_factors seed holds: a grid region
    and edition, and a fuel region and edition unless the site gives its own diesel factor. -#}
with

settings as (
    select * from {{ ref('stg_site_config__carbon_settings') }}
),

factors as (
    select * from {{ ref('emission_factors') }}
),

grid_missing as (
    select
        settings.site_id,
        'grid_electricity ' || settings.grid_region || '/' || settings.grid_edition as wanted
    from settings
    left join factors
        on settings.grid_region = factors.region
        and settings.grid_edition = factors.edition
        and factors.activity = 'grid_electricity'
        and factors.scope = 2
    where settings.grid_region is not null
        and factors.factor is null
),

fuel_missing as (
    select
        settings.site_id,
        'diesel ' || settings.fuel_region || '/' || settings.fuel_edition as wanted
    from settings
    left join factors
        on settings.fuel_region = factors.region
        and settings.fuel_edition = factors.edition
        and factors.activity = 'diesel'
        and factors.scope = 1
    where settings.diesel_factor_kg_per_l is null
        and factors.factor is null
)

select * from grid_missing
union all
select * from fuel_missing
