with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_load_hours')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(load_id as varchar) as load_id,
        cast(iso_dow as integer) as iso_dow,
        cast(start_minute as integer) as start_minute,
        cast(end_minute as integer) as end_minute
    from source
)

select * from renamed
