{#- Licence limits with their bounds converted to the parameter's canonical unit. -#}
with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'wq_limits')) }}
),

parameters as (
    select * from {{ read_lake_parquet(source('site_config', 'wq_parameters')) }}
),

units as (
    select * from {{ read_lake_parquet(source('site_config', 'units')) }}
),

renamed as (
    select
        cast(source.site_id as varchar) as site_id,
        cast(source.limit_id as varchar) as limit_id,
        cast(source.sample_point_id as varchar) as sample_point_id,
        cast(source.parameter_id as varchar) as parameter_id,
        cast(source.min_value as double precision) * limit_unit.factor / canonical_unit.factor
            as limit_min,
        cast(source.max_value as double precision) * limit_unit.factor / canonical_unit.factor
            as limit_max,
        cast(parameters.unit as varchar) as unit_canonical,
        cast(source.min_value as double precision) as limit_min_as_licensed,
        cast(source.max_value as double precision) as limit_max_as_licensed,
        cast(source.unit as varchar) as unit_as_licensed,
        cast(source.basis as varchar) as limit_basis,
        cast(source.reference as varchar) as licence_reference
    from source
    inner join parameters
        on source.site_id = parameters.site_id
        and source.parameter_id = parameters.parameter_id
    inner join units as limit_unit
        on source.unit = limit_unit.symbol
    inner join units as canonical_unit
        on parameters.unit = canonical_unit.symbol
)

select * from renamed
