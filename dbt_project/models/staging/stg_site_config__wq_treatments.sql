with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'wq_treatments')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(treatment_id as varchar) as treatment_id,
        cast(name as varchar) as treatment_name,
        cast(inlet_point_id as varchar) as inlet_point_id,
        cast(outlet_point_id as varchar) as outlet_point_id
    from source
)

select * from renamed
