with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'wq_parameters')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(parameter_id as varchar) as parameter_id,
        cast(name as varchar) as parameter_name,
        cast(unit as varchar) as unit_canonical
    from source
)

select * from renamed
