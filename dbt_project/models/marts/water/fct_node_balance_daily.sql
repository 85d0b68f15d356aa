{#- The water balance of every store and task per site-local day. -#}
with

nodes as (
    select * from {{ ref('int_nodes_enriched') }}
    where node_kind in ('store', 'task')
),

sites as (
    select * from {{ ref('int_sites_enriched') }}
),

flows as (
    select * from {{ ref('int_flows_classified') }}
),

volumes as (
    select * from {{ ref('int_flow_volumes_daily') }}
),

storage as (
    select * from {{ ref('int_store_storage_daily') }}
),

site_days as (
    select distinct site_id, day, month_start, is_day_closed
    from volumes
),

inflows as (
    select
        volumes.site_id,
        flows.to_node_id as node_id,
        volumes.day,
        sum(volumes.volume_m3) as inflow_m3,
        sum(case when flows.flow_role = 'rainfall' then volumes.volume_m3 else 0 end)
            as rainfall_m3,
        count(*) as n_flows,
        {{ count_where("volumes.is_missing") }} as n_flows_missing
    from volumes
    inner join flows
        on volumes.site_id = flows.site_id
        and volumes.flow_id = flows.flow_id
    group by volumes.site_id, flows.to_node_id, volumes.day
),

outflows as (
    select
        volumes.site_id,
        flows.from_node_id as node_id,
        volumes.day,
        sum(volumes.volume_m3) as outflow_m3,
        sum(case when flows.flow_role = 'evaporation' then volumes.volume_m3 else 0 end)
            as evaporation_m3,
        sum(case when flows.flow_role = 'seepage' then volumes.volume_m3 else 0 end)
            as seepage_m3,
        count(*) as n_flows,
        {{ count_where("volumes.is_missing") }} as n_flows_missing
    from volumes
    inner join flows
        on volumes.site_id = flows.site_id
        and volumes.flow_id = flows.flow_id
    group by volumes.site_id, flows.from_node_id, volumes.day
),

balances as (
    select
        nodes.site_id,
        nodes.node_id,
        nodes.node_kind,
        site_days.day,
        site_days.month_start,
        site_days.is_day_closed,
        storage.opening_storage_m3,
        storage.closing_storage_m3,
        case
            when nodes.node_kind = 'store' then storage.storage_change_m3
            else 0
        end as storage_change_m3,
        coalesce(inflows.inflow_m3, 0) as inflow_m3,
        coalesce(outflows.outflow_m3, 0) as outflow_m3,
        coalesce(inflows.rainfall_m3, 0) as rainfall_m3,
        coalesce(outflows.evaporation_m3, 0) as evaporation_m3,
        coalesce(outflows.seepage_m3, 0) as seepage_m3,
        coalesce(inflows.n_flows, 0) + coalesce(outflows.n_flows, 0) as n_flows,
        coalesce(inflows.n_flows_missing, 0) + coalesce(outflows.n_flows_missing, 0)
            as n_flows_missing,
        sites.node_balance_threshold_pct
    from nodes
    inner join site_days
        on nodes.site_id = site_days.site_id
    inner join sites
        on nodes.site_id = sites.site_id
    left join storage
        on nodes.site_id = storage.site_id
        and nodes.node_id = storage.node_id
        and site_days.day = storage.day
    left join inflows
        on nodes.site_id = inflows.site_id
        and nodes.node_id = inflows.node_id
        and site_days.day = inflows.day
    left join outflows
        on nodes.site_id = outflows.site_id
        and nodes.node_id = outflows.node_id
        and site_days.day = outflows.day
),

errors as (
    select
        balances.*,
        {{ node_balance_error() }}
    from balances
),

final as (
    select
        site_id,
        node_id,
        node_kind,
        day,
        month_start,
        opening_storage_m3,
        closing_storage_m3,
        storage_change_m3,
        inflow_m3,
        outflow_m3,
        rainfall_m3,
        evaporation_m3,
        seepage_m3,
        balance_error_m3,
        balance_error_pct,
        node_balance_threshold_pct as balance_threshold_pct,
        {{ threshold_status('balance_error_pct', 'node_balance_threshold_pct') }} as balance_status,
        n_flows,
        n_flows_missing,
        is_day_closed,
        n_flows_missing = 0 and storage_change_m3 is not null and is_day_closed as is_complete
    from errors
)

select * from final
