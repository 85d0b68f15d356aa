with

flows as (
    select * from {{ ref('int_flows_classified') }}
),

meters as (
    select * from {{ ref('int_meters_enriched') }}
    where balance_role = 'flow_volume'
),

flow_meters as (
    select
        site_id,
        flow_id,
        {{ dbt.listagg('meter_id', "','", 'order by meter_id') }} as meter_ids
    from meters
    group by site_id, flow_id
),

final as (
    select
        flows.site_id,
        flows.flow_id,
        flows.flow_name,
        flows.from_node_id,
        flows.to_node_id,
        flows.from_node_kind,
        flows.to_node_kind,
        flows.direction,
        flows.waf_input_source,
        flows.waf_output_destination,
        flows.waf_category,
        flows.quality_category,
        flows.quality_class,
        flows.water_state,
        flows.flow_role,
        flows.configured_method,
        flows.accounting_method,
        flows.estimation_method,
        flow_meters.meter_ids,
        flows.description
    from flows
    left join flow_meters
        on flows.site_id = flow_meters.site_id
        and flows.flow_id = flow_meters.flow_id
)

select * from final
