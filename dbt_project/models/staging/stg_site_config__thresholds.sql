with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'thresholds')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(closure_error_pct as double precision) as closure_threshold_pct,
        cast(node_balance_error_pct as double precision) as node_balance_threshold_pct,
        cast(store_high_pct as double precision) as store_high_pct,
        cast(store_low_pct as double precision) as store_low_pct
    from source
)

select * from renamed
