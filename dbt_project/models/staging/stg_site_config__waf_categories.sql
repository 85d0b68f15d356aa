with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'waf_categories')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(direction as varchar) as direction,
        cast(category as varchar) as waf_category,
        cast(position as integer) as category_position
    from source
)

select * from renamed
