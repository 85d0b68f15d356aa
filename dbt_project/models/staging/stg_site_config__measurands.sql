with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'measurands')) }}
),

renamed as (
    select
        cast(name as varchar) as measurand,
        cast(dimension as varchar) as dimension,
        cast(canonical_unit as varchar) as canonical_unit,
        cast(cumulative as boolean) as is_cumulative,
        cast(description as varchar) as description
    from source
)

select * from renamed
