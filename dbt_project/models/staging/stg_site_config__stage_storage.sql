with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'stage_storage')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(node_id as varchar) as node_id,
        cast(point_index as integer) as point_index,
        cast(level_m as double precision) as level_m,
        cast(volume_m3 as double precision) as volume_m3
    from source
)

select * from renamed
