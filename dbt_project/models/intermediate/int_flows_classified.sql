{#- Every flow with what the balance needs to know about it: where it sits in the WAF
    input-output model (input, output, diversion, internal), the category it reports under, its
    quality class, its role in a store balance (rainfall, evaporation, seepage, transfer) and the
    method of its volume for the accuracy statement. -#}
with

flows as (
    select * from {{ ref('stg_site_config__flows') }}
),

nodes as (
    select * from {{ ref('stg_site_config__nodes') }}
),

rules as (
    select * from {{ ref('stg_site_config__estimation_rules') }}
),

sites as (
    select * from {{ ref('int_sites_enriched') }}
),

volume_meters as (
    select
        site_id,
        flow_id,
        count(*) as n_volume_meters
    from {{ ref('stg_site_config__meters') }}
    where flow_id is not null
        and measurand in ('totaliser', 'volume', 'flow_rate')
    group by site_id, flow_id
),

joined as (
    select
        flows.site_id,
        flows.flow_id,
        flows.flow_name,
        flows.from_node_id,
        flows.to_node_id,
        from_node.node_kind as from_node_kind,
        to_node.node_kind as to_node_kind,
        from_node.node_type as from_node_type,
        to_node.node_type as to_node_type,
        case
            when from_node.node_kind = 'source' and to_node.node_kind = 'destination'
                then 'diversion'
            when from_node.node_kind = 'source' then 'input'
            when to_node.node_kind = 'destination' then 'output'
            else 'internal'
        end as direction,
        flows.waf_input_source,
        flows.waf_output_destination,
        flows.quality_category,
        case
            when flows.quality_category is null then null
            when ',' || sites.quality_high_categories || ','
                like '%,' || cast(flows.quality_category as varchar) || ',%'
                then 'high'
            else 'low'
        end as quality_class,
        flows.water_state,
        flows.configured_method,
        rules.estimation_method,
        rules.classification as rule_classification,
        coalesce(volume_meters.n_volume_meters, 0) as n_volume_meters,
        flows.description
    from flows
    left join nodes as from_node
        on flows.site_id = from_node.site_id
        and flows.from_node_id = from_node.node_id
    left join nodes as to_node
        on flows.site_id = to_node.site_id
        and flows.to_node_id = to_node.node_id
    left join rules
        on flows.site_id = rules.site_id
        and flows.flow_id = rules.flow_id
    left join sites
        on flows.site_id = sites.site_id
    left join volume_meters
        on flows.site_id = volume_meters.site_id
        and flows.flow_id = volume_meters.flow_id
),

final as (
    select
        joined.*,
        case direction
            when 'input' then waf_input_source
            when 'output' then waf_output_destination
            when 'diversion' then coalesce(waf_output_destination, waf_input_source)
        end as waf_category,
        case
            when estimation_method is not null then rule_classification
            when n_volume_meters > 0 then 'measured'
            else configured_method
        end as accounting_method,
        case
            when estimation_method = 'rainfall_runoff' or from_node_type = 'rain'
                then 'rainfall'
            when estimation_method = 'pan_evaporation'
                or waf_output_destination = 'evaporation'
                then 'evaporation'
            when estimation_method = 'seepage' or to_node_type = 'seepage' then 'seepage'
            else 'transfer'
        end as flow_role
    from joined
)

select * from final
