{#- Re-created with every window run (tagged like the readings' view): whether the lake holds a
    lab result file yet is decided when the view is created. -#}
{{ config(tags=['partitioned_by_day']) }}

{#- Every delivered copy of every lab or field result, typed, with the value in the parameter's
    canonical unit and the sample's site-local time. -#}
with

{% if lake_has_files(source('lab_lake', 'lab_results')) %}
source as (
    select * from {{ read_lake_parquet(source('lab_lake', 'lab_results'), hive_partitioning=true) }}
),
{% else %}
source as (
    select
        cast(null as varchar) as site,
        cast(null as varchar) as source,
        cast(null as date) as day,
        cast(null as varchar) as sample_point_id,
        cast(null as timestamp with time zone) as sampled_at,
        cast(null as varchar) as parameter_id,
        cast(null as double precision) as value,
        cast(null as varchar) as unit,
        cast(null as boolean) as below_detection,
        cast(null as varchar) as lab,
        cast(null as varchar) as method,
        cast(null as varchar) as sample_id,
        cast(null as varchar) as batch_id,
        cast(null as varchar) as source_file,
        cast(null as bigint) as source_row,
        cast(null as timestamp with time zone) as loaded_at
    where false
),
{% endif %}

sites as (
    select * from {{ read_lake_parquet(source('site_config', 'sites')) }}
),

parameters as (
    select * from {{ read_lake_parquet(source('site_config', 'wq_parameters')) }}
),

units as (
    select * from {{ read_lake_parquet(source('site_config', 'units')) }}
),

renamed as (
    select
        cast(site as varchar) as site_id,
        cast(source as varchar) as source_name,
        cast(day as date) as sample_day,
        cast(sample_point_id as varchar) as sample_point_id,
        cast(sampled_at as timestamp with time zone) as sampled_at_utc,
        cast(parameter_id as varchar) as parameter_id,
        cast(value as double precision) as value,
        cast(unit as varchar) as unit,
        cast(below_detection as boolean) as is_below_detection,
        cast(lab as varchar) as lab,
        cast(method as varchar) as method,
        cast(sample_id as varchar) as sample_id,
        cast(batch_id as varchar) as batch_id,
        cast(source_file as varchar) as source_file,
        cast(source_row as bigint) as source_row,
        cast(loaded_at as timestamp with time zone) as loaded_at
    from source
),

final as (
    select
        renamed.site_id,
        renamed.sample_point_id,
        renamed.parameter_id,
        renamed.sampled_at_utc,
        {{ utc_to_local('renamed.sampled_at_utc', 'sites.timezone') }} as sampled_at_local,
        renamed.sample_day,
        renamed.value,
        renamed.unit,
        -- the importer only keeps units of the parameter's dimension
        case
            when delivered_unit.dimension = canonical_unit.dimension
                then renamed.value * delivered_unit.factor / canonical_unit.factor
        end as value_canonical,
        parameters.unit as unit_canonical,
        renamed.is_below_detection,
        renamed.lab,
        renamed.method,
        renamed.sample_id,
        renamed.source_name,
        renamed.batch_id,
        renamed.source_file,
        renamed.source_row,
        renamed.loaded_at
    from renamed
    left join sites
        on renamed.site_id = sites.site_id
    left join parameters
        on renamed.site_id = parameters.site_id
        and renamed.parameter_id = parameters.parameter_id
    left join units as delivered_unit
        on renamed.unit = delivered_unit.symbol
    left join units as canonical_unit
        on parameters.unit = canonical_unit.symbol
)

select * from final
