with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'sustainability_settings')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(at_risk_margin_pct as double precision) as at_risk_margin_pct
    from source
)

select * from renamed
