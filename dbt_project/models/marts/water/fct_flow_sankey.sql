{#- One row per flow and period (day or month): the links of a Sankey diagram of the site. -#}
with

volumes as (
    select * from {{ ref('int_flow_volumes_daily') }}
),

flows as (
    select * from {{ ref('int_flows_classified') }}
),

nodes as (
    select * from {{ ref('int_nodes_enriched') }}
),

by_period as (
    select
        site_id,
        flow_id,
        'day' as period_grain,
        day as period_start,
        volume_m3,
        case when is_missing then 1 else 0 end as n_days_missing
    from volumes
    union all
    select
        site_id,
        flow_id,
        'month' as period_grain,
        month_start as period_start,
        sum(volume_m3) as volume_m3,
        {{ count_where("is_missing") }} as n_days_missing
    from volumes
    group by site_id, flow_id, month_start
),

final as (
    select
        by_period.site_id,
        by_period.period_grain,
        by_period.period_start,
        by_period.flow_id,
        flows.flow_name,
        flows.from_node_id as source_node_id,
        source_node.node_name as source_node_name,
        source_node.node_kind as source_node_kind,
        flows.to_node_id as target_node_id,
        target_node.node_name as target_node_name,
        target_node.node_kind as target_node_kind,
        by_period.volume_m3,
        flows.direction,
        flows.waf_category,
        flows.quality_category,
        flows.accounting_method as method,
        by_period.n_days_missing
    from by_period
    inner join flows
        on by_period.site_id = flows.site_id
        and by_period.flow_id = flows.flow_id
    left join nodes as source_node
        on flows.site_id = source_node.site_id
        and flows.from_node_id = source_node.node_id
    left join nodes as target_node
        on flows.site_id = target_node.site_id
        and flows.to_node_id = target_node.node_id
)

select * from final
