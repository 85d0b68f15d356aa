with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'nodes')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(node_id as varchar) as node_id,
        cast(name as varchar) as node_name,
        cast(kind as varchar) as node_kind,
        cast(nullif(type, '') as varchar) as node_type,
        cast(capacity_m3 as double precision) as capacity_m3,
        cast(surface_area_m2 as double precision) as surface_area_m2,
        cast(catchment_area_m2 as double precision) as catchment_area_m2,
        cast(description as varchar) as description
    from source
)

select * from renamed
