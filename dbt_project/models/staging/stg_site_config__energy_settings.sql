with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_settings')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(currency as varchar) as currency,
        cast(latitude as double precision) as latitude,
        cast(longitude as double precision) as longitude,
        cast(altitude_m as double precision) as altitude_m,
        cast(unaccounted_alert_l_per_day as double precision) as unaccounted_alert_l_per_day,
        cast(solar_cost_per_kwh as double precision) as solar_cost_per_kwh,
        cast(daily_cost_alert as double precision) as daily_cost_alert
    from source
)

select * from renamed
