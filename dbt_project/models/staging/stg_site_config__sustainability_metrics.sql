with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'sustainability_metrics')) }}
),

renamed as (
    select
        cast(metric as varchar) as metric,
        cast(unit as varchar) as unit,
        cast(lower_is_better as boolean) as lower_is_better,
        cast(description as varchar) as description
    from source
)

select * from renamed
