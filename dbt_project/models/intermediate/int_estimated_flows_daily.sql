{{ config(**partitioned_by_day_config('day')) }}

{#- Daily volume of every flow that has an estimation rule (formulas: DOMAIN_WATER.md,
    docs/site-config.md). A missing input (no rain reading, no opening storage) gives a null
    volume, never a silent zero. tsf_return and entrainment scale another flow's daily volume;
    that flow may itself be estimated, so those rules are resolved recursively from the metered
    flows and the rules that need no other flow. -#}
with recursive

rules as (
    select * from {{ ref('stg_site_config__estimation_rules') }}
    where {{ in_site_window('site_id') }}
),

days as (
    select * from {{ ref('int_site_days') }}
),

nodes as (
    select * from {{ ref('stg_site_config__nodes') }}
),

meter_totals as (
    select * from {{ ref('int_meter_totals_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

storage as (
    select * from {{ ref('int_store_storage_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

measured as (
    select * from {{ ref('int_flow_measured_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

rule_days as (
    select
        rules.*,
        days.day,
        days.days_in_month
    from rules
    inner join days
        on rules.site_id = days.site_id
),

independent as (
    select
        rule_days.site_id,
        rule_days.flow_id,
        rule_days.day,
        case rule_days.estimation_method
            when 'rainfall_runoff'
                then rain.total_value / 1000.0
                    * coalesce(rule_days.area_m2, nodes.surface_area_m2)
                    * coalesce(rule_days.runoff_coefficient, 1.0)
            when 'pan_evaporation'
                then pan.total_value / 1000.0
                    * coalesce(rule_days.area_m2, nodes.surface_area_m2)
                    * coalesce(rule_days.pan_factor, 0.7)
            when 'seepage'
                then storage.opening_storage_m3 * rule_days.rate_pct_per_month / 100.0
                    / rule_days.days_in_month
            -- tonnes as weighed (wet); moisture % on the rule's declared basis
            when 'ore_moisture'
                then case rule_days.moisture_basis
                    when 'wet_mass'
                        then ore.total_value
                            * coalesce(moisture.mean_value, rule_days.moisture_pct) / 100.0
                            / coalesce(rule_days.water_density_t_per_m3, 1.0)
                    -- water = dry t x w_d, and dry t = wet t / (1 + w_d)
                    when 'dry_mass'
                        then ore.total_value
                            * coalesce(moisture.mean_value, rule_days.moisture_pct)
                            / (100.0 + coalesce(moisture.mean_value, rule_days.moisture_pct))
                            / coalesce(rule_days.water_density_t_per_m3, 1.0)
                    -- water m3 = ore m3 x volumetric moisture; ore m3 = t / bulk density
                    when 'volume'
                        then ore.total_value / rule_days.bulk_density_t_per_m3
                            * coalesce(moisture.mean_value, rule_days.moisture_pct) / 100.0
                end
            when 'plant_water_per_tonne' then ore.total_value * rule_days.m3_per_t
            when 'dust_suppression' then ore.total_value * rule_days.m3_per_t
            when 'fixed_rate' then rule_days.m3_per_day
        end as volume_m3,
        case rule_days.estimation_method
            when 'rainfall_runoff' then rain.total_value
            when 'pan_evaporation' then pan.total_value
            when 'seepage' then storage.opening_storage_m3
            when 'fixed_rate' then rule_days.m3_per_day
            else ore.total_value
        end as driver_value,
        case rule_days.estimation_method
            when 'rainfall_runoff' then 'mm'
            when 'pan_evaporation' then 'mm'
            when 'seepage' then 'm3'
            when 'fixed_rate' then 'm3/d'
            else 't'
        end as driver_unit,
        case rule_days.estimation_method
            when 'rainfall_runoff' then rule_days.rain_meter_id
            when 'pan_evaporation' then rule_days.pan_meter_id
            when 'seepage' then rule_days.node_id
            when 'fixed_rate' then null
            else rule_days.ore_meter_id
        end as driver_ref
    from rule_days
    left join nodes
        on rule_days.site_id = nodes.site_id
        and rule_days.node_id = nodes.node_id
    left join meter_totals as rain
        on rule_days.site_id = rain.site_id
        and rule_days.rain_meter_id = rain.meter_id
        and rule_days.day = rain.day
    left join meter_totals as pan
        on rule_days.site_id = pan.site_id
        and rule_days.pan_meter_id = pan.meter_id
        and rule_days.day = pan.day
    left join meter_totals as ore
        on rule_days.site_id = ore.site_id
        and rule_days.ore_meter_id = ore.meter_id
        and rule_days.day = ore.day
    left join meter_totals as moisture
        on rule_days.site_id = moisture.site_id
        and rule_days.moisture_meter_id = moisture.meter_id
        and rule_days.day = moisture.day
    left join storage
        on rule_days.site_id = storage.site_id
        and rule_days.node_id = storage.node_id
        and rule_days.day = storage.day
    where rule_days.estimation_method not in ('tsf_return', 'entrainment')
),

dependent_rules as (
    select * from rules
    where estimation_method in ('tsf_return', 'entrainment')
),

-- flows whose volume is known without a flow-dependent rule: metered flows that have no rule
-- (a rule overrides meters) and the independent estimates
known as (
    select measured.site_id, measured.flow_id, measured.day, measured.volume_m3
    from measured
    left join rules
        on measured.site_id = rules.site_id
        and measured.flow_id = rules.flow_id
    where rules.flow_id is null
    union all
    select site_id, flow_id, day, volume_m3
    from independent
),

resolved as (
    select
        site_id,
        flow_id,
        day,
        volume_m3,
        cast(null as double precision) as source_volume_m3,
        cast(null as varchar) as source_flow_id,
        0 as depth
    from known
    union all
    select
        dependent_rules.site_id,
        dependent_rules.flow_id,
        resolved.day,
        case dependent_rules.estimation_method
            when 'tsf_return' then resolved.volume_m3 * dependent_rules.return_pct / 100.0
            else resolved.volume_m3 * (1.0 - dependent_rules.return_pct / 100.0)
                * dependent_rules.retention_pct / 100.0
        end as volume_m3,
        resolved.volume_m3 as source_volume_m3,
        resolved.flow_id as source_flow_id,
        resolved.depth + 1 as depth
    from resolved
    inner join dependent_rules
        on resolved.site_id = dependent_rules.site_id
        and resolved.flow_id = dependent_rules.source_flow_id
    -- the rule graph is acyclic from `known`; the bound only guards against a malformed file
    where resolved.depth < 20
),

estimates as (
    select site_id, flow_id, day, volume_m3, driver_value, driver_unit, driver_ref
    from independent
    union all
    select site_id, flow_id, day, volume_m3, source_volume_m3, 'm3', source_flow_id
    from resolved
    where depth > 0
),

final as (
    select
        rule_days.site_id,
        rule_days.flow_id,
        rule_days.day,
        rule_days.estimation_method,
        rule_days.classification,
        rule_days.defaulted_params,
        estimates.volume_m3,
        estimates.driver_value,
        coalesce(estimates.driver_unit, 'm3') as driver_unit,
        coalesce(estimates.driver_ref, rule_days.source_flow_id) as driver_ref
    from rule_days
    left join estimates
        on rule_days.site_id = estimates.site_id
        and rule_days.flow_id = estimates.flow_id
        and rule_days.day = estimates.day
)

select * from final
