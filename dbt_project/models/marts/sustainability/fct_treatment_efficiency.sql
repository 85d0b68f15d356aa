{#- Removal by each treatment step per parameter and sampling day: the day's mean inlet and
    outlet results, removal % = (in - out) / in x 100. An outlet below detection makes the
    removal a lower bound ("at least", out taken at its detection limit); an inlet below
    detection leaves it undetermined. pH has no removal. -#}
with

results as (
    select * from {{ ref('fct_water_quality_results') }}
    where unit <> 'pH'
),

treatments as (
    select * from {{ ref('stg_site_config__wq_treatments') }}
),

daily as (
    select
        site_id,
        sample_point_id,
        parameter_id,
        sample_day,
        unit,
        avg(value) as value,
        bool_or(is_below_detection) as is_below_detection,
        count(*) as n_results
    from results
    group by site_id, sample_point_id, parameter_id, sample_day, unit
),

paired as (
    select
        treatments.site_id,
        treatments.treatment_id,
        treatments.treatment_name,
        treatments.inlet_point_id,
        treatments.outlet_point_id,
        inlet.parameter_id,
        inlet.sample_day,
        inlet.unit,
        inlet.value as inlet_value,
        outlet.value as outlet_value,
        inlet.is_below_detection as is_inlet_below_detection,
        outlet.is_below_detection as is_outlet_below_detection
    from treatments
    inner join daily as inlet
        on treatments.site_id = inlet.site_id
        and treatments.inlet_point_id = inlet.sample_point_id
    inner join daily as outlet
        on treatments.site_id = outlet.site_id
        and treatments.outlet_point_id = outlet.sample_point_id
        and inlet.parameter_id = outlet.parameter_id
        and inlet.sample_day = outlet.sample_day
),

final as (
    select
        site_id,
        treatment_id,
        treatment_name,
        inlet_point_id,
        outlet_point_id,
        parameter_id,
        sample_day,
        inlet_value,
        outlet_value,
        unit,
        is_inlet_below_detection,
        is_outlet_below_detection,
        case
            when not is_inlet_below_detection and inlet_value > 0
                then round(100.0 * (inlet_value - outlet_value) / inlet_value, 4)
        end as removal_pct,
        case
            when is_inlet_below_detection or inlet_value <= 0 then 'undetermined'
            when is_outlet_below_detection then 'at_least'
            else 'measured'
        end as removal_basis
    from paired
)

select * from final
