with

nodes as (
    select * from {{ ref('int_nodes_enriched') }}
),

sites as (
    select * from {{ ref('int_sites_enriched') }}
),

final as (
    select
        nodes.site_id,
        nodes.node_id,
        sites.site_name,
        nodes.node_name,
        nodes.node_kind,
        nodes.node_type,
        nodes.capacity_m3,
        nodes.surface_area_m2,
        nodes.catchment_area_m2,
        nodes.curve_min_level_m,
        nodes.curve_max_level_m,
        nodes.curve_max_volume_m3,
        nodes.n_curve_points,
        nodes.n_level_meters,
        nodes.description
    from nodes
    left join sites
        on nodes.site_id = sites.site_id
)

select * from final
