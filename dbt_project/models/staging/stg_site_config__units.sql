with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'units')) }}
),

renamed as (
    select
        cast(symbol as varchar) as unit,
        cast(dimension as varchar) as dimension,
        cast(factor as double precision) as factor_to_base
    from source
)

select * from renamed
