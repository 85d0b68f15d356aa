{#- Every meter that counts for carbon with the emission factor its site chose: the seed's row
    for the site's grid region and edition (grid electricity, scope 2) or fuel region and edition
    (diesel, scope 1), or the site's own diesel factor. A meter without a factor says why. -#}
with

carbon_meters as (
    select * from {{ ref('stg_site_config__carbon_meters') }}
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
),

settings as (
    select * from {{ ref('stg_site_config__carbon_settings') }}
),

factors as (
    select * from {{ ref('emission_factors') }}
),

flows as (
    select * from {{ ref('stg_site_config__flows') }}
),

-- the seed row each meter needs: the site's grid or fuel region and edition
factors_wanted as (
    select
        carbon_meters.site_id,
        carbon_meters.meter_id,
        case carbon_meters.activity
            when 'diesel' then settings.fuel_region else settings.grid_region
        end as region,
        case carbon_meters.activity
            when 'diesel' then settings.fuel_edition else settings.grid_edition
        end as edition
    from carbon_meters
    left join settings
        on carbon_meters.site_id = settings.site_id
),

meter_factors as (
    select
        carbon_meters.site_id,
        carbon_meters.meter_id,
        carbon_meters.activity,
        carbon_meters.scope,
        meters.node_id,
        meters.flow_id,
        flows.from_node_id as flow_from_node_id,
        flows.to_node_id as flow_to_node_id,
        case
            when carbon_meters.activity = 'diesel' and settings.diesel_factor_kg_per_l is not null
                then settings.diesel_factor_kg_per_l
            else factors.factor
        end as factor_kg_per_unit,
        case
            when carbon_meters.activity = 'diesel' and settings.diesel_factor_kg_per_l is not null
                then 'CO2-e'
            else factors.gas_basis
        end as gas_basis,
        case
            when carbon_meters.activity = 'diesel' and settings.diesel_factor_kg_per_l is not null
                then 'site'
            else factors.region
        end as factor_region,
        case
            when carbon_meters.activity = 'diesel' and settings.diesel_factor_kg_per_l is not null
                then 'site'
            else factors.edition
        end as factor_edition,
        case
            when carbon_meters.activity = 'diesel' and settings.diesel_factor_kg_per_l is not null
                then 'site file: carbon.diesel_factor_kg_per_l'
            else factors.source
        end as factor_source,
        case
            when carbon_meters.activity = 'diesel' and settings.diesel_factor_kg_per_l is not null
                then null
            when carbon_meters.activity = 'grid_electricity' and settings.grid_region is null
                then 'no grid region configured (carbon.grid_region)'
            when factors.factor is null
                then 'no factor in emission_factors for '
                || coalesce(factors_wanted.region, '') || '/'
                || coalesce(factors_wanted.edition, '')
        end as factor_problem
    from carbon_meters
    inner join meters
        on carbon_meters.site_id = meters.site_id
        and carbon_meters.meter_id = meters.meter_id
    left join settings
        on carbon_meters.site_id = settings.site_id
    left join flows
        on meters.site_id = flows.site_id
        and meters.flow_id = flows.flow_id
    left join factors_wanted
        on carbon_meters.site_id = factors_wanted.site_id
        and carbon_meters.meter_id = factors_wanted.meter_id
    left join factors
        on factors_wanted.region = factors.region
        and factors_wanted.edition = factors.edition
        and carbon_meters.activity = factors.activity
        and carbon_meters.scope = factors.scope
)

select * from meter_factors
