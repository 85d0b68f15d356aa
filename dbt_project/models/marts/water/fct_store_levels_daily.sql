{#- Every store with a capacity at the end of each site-local day: how full it is against the
    site's high and low marks — what the store-level alert rules read. -#}
with

balance as (
    select * from {{ ref('fct_node_balance_daily') }}
    where node_kind = 'store'
),

nodes as (
    select * from {{ ref('int_nodes_enriched') }}
),

sites as (
    select * from {{ ref('int_sites_enriched') }}
),

final as (
    select
        balance.site_id,
        balance.node_id,
        nodes.node_name,
        balance.day,
        balance.is_day_closed,
        balance.closing_storage_m3,
        nodes.capacity_m3,
        case when nodes.capacity_m3 > 0
            then round(100.0 * balance.closing_storage_m3 / nodes.capacity_m3, 4)
        end as fill_pct,
        sites.store_high_pct,
        sites.store_low_pct
    from balance
    inner join nodes
        on balance.site_id = nodes.site_id
        and balance.node_id = nodes.node_id
    inner join sites
        on balance.site_id = sites.site_id
    where nodes.capacity_m3 is not null
)

select * from final
