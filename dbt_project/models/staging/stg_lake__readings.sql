{#- Tagged with the day-partitioned models so the orchestrator re-creates it with every window
    run: whether the lake has any file yet is decided when the view is created, and the models
    that read it are all rebuilt per day anyway. -#}
{{ config(tags=['partitioned_by_day']) }}

{#- Every delivered copy of every plausible reading (macros/plausible_days.sql), typed, with
    its value normalised to the measurand's canonical unit and its site-local time. `partition_day` is the lake's `day=` folder (the
    site-local day of the reading); filtering on it prunes whole folders. -#}
with

{% if lake_has_files(source('lake', 'readings')) %}
source as (
    select * from {{ read_lake_parquet(source('lake', 'readings'), hive_partitioning=true) }}
),
{% else %}
source as (
    select
        cast(null as varchar) as site,
        cast(null as varchar) as source,
        cast(null as date) as day,
        cast(null as varchar) as meter_id,
        cast(null as timestamp with time zone) as ts,
        cast(null as double precision) as value,
        cast(null as varchar) as unit,
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

meters as (
    select * from {{ read_lake_parquet(source('site_config', 'meters')) }}
),

measurands as (
    select * from {{ read_lake_parquet(source('site_config', 'measurands')) }}
),

units as (
    select * from {{ read_lake_parquet(source('site_config', 'units')) }}
),

renamed as (
    select
        cast(site as varchar) as site_id,
        cast(source as varchar) as source_name,
        cast(day as date) as partition_day,
        cast(meter_id as varchar) as meter_id,
        cast(ts as timestamp with time zone) as ts_utc,
        cast(value as double precision) as value,
        cast(unit as varchar) as unit,
        cast(batch_id as varchar) as batch_id,
        cast(source_file as varchar) as source_file,
        cast(source_row as bigint) as source_row,
        cast(loaded_at as timestamp with time zone) as loaded_at
    from source
),

normalised as (
    select
        renamed.site_id,
        renamed.meter_id,
        meters.measurand,
        renamed.ts_utc,
        {{ utc_to_local('renamed.ts_utc', 'sites.timezone') }} as ts_local,
        renamed.partition_day,
        renamed.value,
        renamed.unit,
        -- a unit of another dimension than the measurand's cannot be converted: left null
        case
            when delivered_unit.dimension = measurands.dimension
                then renamed.value * delivered_unit.factor / canonical_unit.factor
        end as value_canonical,
        measurands.canonical_unit as unit_canonical,
        renamed.source_name,
        renamed.batch_id,
        renamed.source_file,
        renamed.source_row,
        renamed.loaded_at
    from renamed
    left join sites
        on renamed.site_id = sites.site_id
    left join meters
        on renamed.site_id = meters.site_id
        and renamed.meter_id = meters.meter_id
    left join measurands
        on meters.measurand = measurands.name
    left join units as delivered_unit
        on renamed.unit = delivered_unit.symbol
    left join units as canonical_unit
        on measurands.canonical_unit = canonical_unit.symbol
    -- a reading outside the site's plausible days (a clock reset to 1970 or run away to 9999,
    -- imported before the importer quarantined such readings) is left out: one would stretch
    -- every day spine and gap series downstream over thousands of years
    where {{ in_plausible_days('renamed.partition_day', 'sites.data_start') }}
),

final as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        ts_local,
        cast(ts_local as date) as reading_day,
        partition_day,
        value,
        unit,
        value_canonical,
        unit_canonical,
        source_name,
        batch_id,
        source_file,
        source_row,
        loaded_at
    from normalised
)

select * from final
