with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'flows')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(flow_id as varchar) as flow_id,
        cast(name as varchar) as flow_name,
        cast(from_node_id as varchar) as from_node_id,
        cast(to_node_id as varchar) as to_node_id,
        cast(waf_input_source as varchar) as waf_input_source,
        cast(waf_output_destination as varchar) as waf_output_destination,
        cast(quality as integer) as quality_category,
        cast(method as varchar) as configured_method,
        cast(water_state as varchar) as water_state,
        cast(description as varchar) as description
    from source
)

select * from renamed
