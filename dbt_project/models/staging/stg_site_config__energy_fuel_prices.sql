with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'energy_fuel_prices')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(valid_from as date) as valid_from,
        cast(price_per_l as double precision) as price_per_l
    from source
)

select * from renamed
