with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_tariff_periods')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(grid_id as varchar) as grid_id,
        cast(period_name as varchar) as period_name,
        cast(rate_per_kwh as double precision) as rate_per_kwh,
        cast(iso_dow as integer) as iso_dow,
        cast(start_minute as integer) as start_minute,
        cast(end_minute as integer) as end_minute
    from source
)

select * from renamed
