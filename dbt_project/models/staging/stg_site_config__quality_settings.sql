with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'quality_settings')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(excellent_min as double precision) as excellent_min,
        cast(good_min as double precision) as good_min,
        cast(fair_min as double precision) as fair_min,
        cast(publish_floor as double precision) as publish_floor,
        cast(block_on_closure_exceeded as boolean) as block_on_closure_exceeded
    from source
)

select * from renamed
