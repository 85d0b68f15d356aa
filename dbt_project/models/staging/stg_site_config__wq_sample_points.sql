with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'wq_sample_points')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(sample_point_id as varchar) as sample_point_id,
        cast(name as varchar) as sample_point_name,
        cast(node_id as varchar) as node_id,
        cast(flow_id as varchar) as flow_id,
        cast(role as varchar) as sample_point_role
    from source
)

select * from renamed
