{#- Each store's stage-storage curve as straight segments between consecutive points. The first
    and last segments also carry levels below and above the curve (linear extrapolation). -#}
with

points as (
    select * from {{ ref('stg_site_config__stage_storage') }}
),

segments as (
    select
        site_id,
        node_id,
        point_index as segment_index,
        level_m as level_low_m,
        volume_m3 as volume_low_m3,
        lead(level_m) over curve as level_high_m,
        lead(volume_m3) over curve as volume_high_m3,
        point_index = min(point_index) over (partition by site_id, node_id) as is_first,
        point_index + 1 = max(point_index) over (partition by site_id, node_id) as is_last
    from points
    window curve as (partition by site_id, node_id order by point_index)
),

final as (
    select * from segments
    where level_high_m is not null
)

select * from final
