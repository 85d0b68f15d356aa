{#- Greenhouse gas emissions per meter and site-local day: the activity (kWh of grid
    electricity, litres of diesel) times the factor the site chose from the emission-factor seed
    (docs/sustainability-water-and-carbon.md). A meter whose factor the seed does not hold keeps
    its activity with a null factor and emissions, and says why. -#}
with

activity as (
    select * from {{ ref('int_energy_fuel_daily') }}
),

meter_factors as (
    select * from {{ ref('int_carbon_meter_factors') }}
),

final as (
    select
        activity.site_id,
        activity.day,
        {{ month_start('activity.day') }} as month_start,
        activity.meter_id,
        meter_factors.node_id,
        meter_factors.flow_id,
        meter_factors.flow_from_node_id,
        meter_factors.flow_to_node_id,
        meter_factors.scope,
        meter_factors.activity,
        activity.measurand,
        activity.amount as activity_amount,
        activity.amount_unit as activity_unit,
        meter_factors.factor_kg_per_unit,
        meter_factors.gas_basis,
        meter_factors.factor_region,
        meter_factors.factor_edition,
        meter_factors.factor_source,
        meter_factors.factor_problem,
        activity.amount * meter_factors.factor_kg_per_unit as kg_co2e,
        activity.n_readings,
        activity.n_rollovers,
        activity.n_resets
    from activity
    inner join meter_factors
        on activity.site_id = meter_factors.site_id
        and activity.meter_id = meter_factors.meter_id
)

select * from final
