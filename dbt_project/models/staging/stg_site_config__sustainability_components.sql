with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'sustainability_components')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(metric as varchar) as metric,
        cast(weight as double precision) as weight,
        cast(best as double precision) as best_value,
        cast(worst as double precision) as worst_value
    from source
)

select * from renamed
