{#- Scope 1, scope 2 and total emissions per site and site-local day, with the water they moved:
    m3 pumped through flows that carry a counted energy meter and m3 out of treatment tasks, and
    the emissions per m3 of each (docs/sustainability-water-and-carbon.md). -#}
with

carbon as (
    select * from {{ ref('fct_carbon_daily') }}
),

meter_factors as (
    select * from {{ ref('int_carbon_meter_factors') }}
),

volumes as (
    select * from {{ ref('int_flow_volumes_daily') }}
),

flows as (
    select * from {{ ref('int_flows_classified') }}
),

days as (
    select distinct site_id, day, month_start, is_day_closed
    from volumes
),

-- a treatment task: a task that releases water declared treated
treatment_tasks as (
    select distinct site_id, from_node_id as node_id
    from flows
    where from_node_kind = 'task'
        and water_state = 'treated'
),

pumped_flows as (
    select distinct site_id, flow_id
    from meter_factors
    where flow_id is not null
        and activity = 'grid_electricity'
),

water as (
    select
        volumes.site_id,
        volumes.day,
        sum(case when pumped_flows.flow_id is not null then volumes.volume_m3 end) as pumped_m3,
        sum(case when treatment_tasks.node_id is not null then volumes.volume_m3 end)
            as treated_m3
    from volumes
    inner join flows
        on volumes.site_id = flows.site_id
        and volumes.flow_id = flows.flow_id
    left join pumped_flows
        on volumes.site_id = pumped_flows.site_id
        and volumes.flow_id = pumped_flows.flow_id
    left join treatment_tasks
        on flows.site_id = treatment_tasks.site_id
        and flows.from_node_id = treatment_tasks.node_id
        and flows.water_state = 'treated'
    group by volumes.site_id, volumes.day
),

emissions as (
    select
        carbon.site_id,
        carbon.day,
        sum(case when carbon.scope = 1 then carbon.kg_co2e else 0 end) as scope1_kg_co2e,
        sum(case when carbon.scope = 2 then carbon.kg_co2e else 0 end) as scope2_kg_co2e,
        sum(case when carbon.activity = 'grid_electricity' then carbon.activity_amount else 0 end)
            as grid_kwh,
        sum(case when carbon.activity = 'diesel' then carbon.activity_amount else 0 end)
            as diesel_l,
        sum(
            case
                when carbon.flow_id is not null and carbon.activity = 'grid_electricity'
                    then carbon.kg_co2e
                else 0
            end
        ) as pumping_kg_co2e,
        sum(
            case
                when carbon.flow_id is not null and carbon.activity = 'grid_electricity'
                    then carbon.activity_amount
                else 0
            end
        ) as pumping_kwh,
        sum(case when treatment_tasks.node_id is not null then carbon.kg_co2e else 0 end)
            as treatment_kg_co2e,
        {{ count_where('carbon.factor_problem is not null') }} as n_meters_without_factor
    from carbon
    left join treatment_tasks
        on carbon.site_id = treatment_tasks.site_id
        and carbon.node_id = treatment_tasks.node_id
    group by carbon.site_id, carbon.day
),

joined as (
    select
        days.site_id,
        days.day,
        days.month_start,
        coalesce(emissions.scope1_kg_co2e, 0) as scope1_kg_co2e,
        coalesce(emissions.scope2_kg_co2e, 0) as scope2_kg_co2e,
        coalesce(emissions.grid_kwh, 0) as grid_kwh,
        coalesce(emissions.diesel_l, 0) as diesel_l,
        coalesce(emissions.pumping_kwh, 0) as pumping_kwh,
        coalesce(emissions.pumping_kg_co2e, 0) as pumping_kg_co2e,
        coalesce(emissions.treatment_kg_co2e, 0) as treatment_kg_co2e,
        coalesce(water.pumped_m3, 0) as pumped_m3,
        coalesce(water.treated_m3, 0) as treated_m3,
        coalesce(emissions.n_meters_without_factor, 0) as n_meters_without_factor,
        days.is_day_closed
    from days
    left join emissions
        on days.site_id = emissions.site_id
        and days.day = emissions.day
    left join water
        on days.site_id = water.site_id
        and days.day = water.day
),

final as (
    select
        site_id,
        day,
        month_start,
        scope1_kg_co2e,
        scope2_kg_co2e,
        scope1_kg_co2e + scope2_kg_co2e as total_kg_co2e,
        grid_kwh,
        diesel_l,
        pumping_kwh,
        pumping_kg_co2e,
        pumped_m3,
        {{ safe_divide('pumping_kg_co2e', 'pumped_m3') }} as kg_co2e_per_m3_pumped,
        {{ safe_divide('pumping_kwh', 'pumped_m3') }} as kwh_per_m3_pumped,
        treatment_kg_co2e,
        treated_m3,
        {{ safe_divide('treatment_kg_co2e', 'treated_m3') }} as kg_co2e_per_m3_treated,
        n_meters_without_factor,
        is_day_closed,
        n_meters_without_factor = 0 as has_every_factor
    from joined
)

select * from final
