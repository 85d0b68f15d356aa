{#- Inputs, outputs and diversions per site-local month by WAF category and water quality
    category, split by accounting method: the cells of the annual report's withdrawal and
    discharge tables (Cat 1 | Cat 2 | Cat 3 | high | low | % measured). -#}
with

volumes as (
    select * from {{ ref('int_flow_volumes_daily') }}
),

flows as (
    select * from {{ ref('int_flows_classified') }}
),

reported_flows as (
    select
        site_id,
        flow_id,
        direction,
        waf_category,
        quality_category,
        quality_class,
        accounting_method
    from flows
    where direction in ('input', 'output', 'diversion')
),

final as (
    select
        volumes.site_id,
        volumes.month_start,
        reported_flows.direction,
        reported_flows.waf_category,
        coalesce(reported_flows.quality_category, 0) as quality_category,
        coalesce(max(reported_flows.quality_class), 'unknown') as quality_class,
        coalesce(sum(volumes.volume_m3), 0) as volume_m3,
        coalesce(sum(case when reported_flows.accounting_method = 'measured'
            then volumes.volume_m3 end), 0) as measured_m3,
        coalesce(sum(case when reported_flows.accounting_method = 'estimated'
            then volumes.volume_m3 end), 0) as estimated_m3,
        coalesce(sum(case when reported_flows.accounting_method = 'simulated'
            then volumes.volume_m3 end), 0) as simulated_m3,
        count(distinct reported_flows.flow_id) as n_flows,
        {{ count_where("volumes.is_missing") }} as n_flow_days_missing
    from volumes
    inner join reported_flows
        on volumes.site_id = reported_flows.site_id
        and volumes.flow_id = reported_flows.flow_id
    group by
        volumes.site_id,
        volumes.month_start,
        reported_flows.direction,
        reported_flows.waf_category,
        coalesce(reported_flows.quality_category, 0)
)

select * from final
