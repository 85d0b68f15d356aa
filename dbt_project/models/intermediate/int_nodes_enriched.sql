{#- Every node with its stage-storage curve's range and the meters that watch it. -#}
with

nodes as (
    select * from {{ ref('stg_site_config__nodes') }}
),

curves as (
    select
        site_id,
        node_id,
        min(level_low_m) as curve_min_level_m,
        max(level_high_m) as curve_max_level_m,
        max(volume_high_m3) as curve_max_volume_m3,
        count(*) + 1 as n_curve_points
    from {{ ref('int_stage_storage_segments') }}
    group by site_id, node_id
),

level_meters as (
    select
        site_id,
        node_id,
        count(*) as n_level_meters
    from {{ ref('stg_site_config__meters') }}
    where measurand = 'level'
        and node_id is not null
    group by site_id, node_id
),

final as (
    select
        nodes.site_id,
        nodes.node_id,
        nodes.node_name,
        nodes.node_kind,
        nodes.node_type,
        nodes.capacity_m3,
        nodes.surface_area_m2,
        nodes.catchment_area_m2,
        curves.curve_min_level_m,
        curves.curve_max_level_m,
        curves.curve_max_volume_m3,
        coalesce(curves.n_curve_points, 0) as n_curve_points,
        coalesce(level_meters.n_level_meters, 0) as n_level_meters,
        nodes.description
    from nodes
    left join curves
        on nodes.site_id = curves.site_id
        and nodes.node_id = curves.node_id
    left join level_meters
        on nodes.site_id = level_meters.site_id
        and nodes.node_id = level_meters.node_id
)

select * from final
