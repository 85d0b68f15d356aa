with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'air_quality_settings')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(aqi_edition as varchar) as aqi_edition,
        cast(trigger_pm10_ug_m3 as double precision) as trigger_pm10_ug_m3,
        cast(min_completeness_pct as double precision) as min_completeness_pct,
        cast(dust_suppression_flows as varchar) as dust_suppression_flows
    from source
)

select * from renamed
