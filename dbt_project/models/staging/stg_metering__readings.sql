{#- Tagged with the day-partitioned models (like stg_lake__readings): whether the lake has any
    file yet is decided when the view is created. -#}
{{ config(tags=['partitioned_by_day']) }}

{#- Every delivered customer meter reading, one row per delivered copy, from
    `<lake_root>/metering/readings/site=<site>/source=<layout>/day=<site-local day>/<batch>.parquet`
    (the hive key `day` is `partition_day`: filtering on it prunes whole folders), plus the rows
    of the water readings lake (stg_lake__readings) of a totaliser meter of the site file whose id
    is a registered customer meter (e.g. polled from a Modbus gateway by the collector): their
    value, in m3, is the forward register. Each row carries exactly one of register_m3 and
    interval_m3. Typed and empty while the lake holds no file. -#}
with

{% if lake_has_files(source('metering_lake', 'readings')) %}
metering_source as (
    select
        cast(site as varchar) as site_id,
        cast(source as varchar) as source_name,
        cast(day as date) as partition_day,
        cast(meter_id as varchar) as meter_id,
        cast(read_at as timestamp with time zone) as read_at,
        cast(register_m3 as double precision) as register_m3,
        cast(interval_m3 as double precision) as interval_m3,
        cast(reverse_m3 as double precision) as reverse_m3,
        cast(battery_pct as double precision) as battery_pct,
        cast(signal_dbm as double precision) as signal_dbm,
        cast(import_batch_id as varchar) as import_batch_id,
        cast(source_file as varchar) as source_file,
        cast(source_row as bigint) as source_row,
        cast(loaded_at as timestamp with time zone) as loaded_at
    from {{ read_lake_parquet(source('metering_lake', 'readings'), hive_partitioning=true) }}
),
{% else %}
metering_source as (
    select
        cast(null as varchar) as site_id,
        cast(null as varchar) as source_name,
        cast(null as date) as partition_day,
        cast(null as varchar) as meter_id,
        cast(null as timestamp with time zone) as read_at,
        cast(null as double precision) as register_m3,
        cast(null as double precision) as interval_m3,
        cast(null as double precision) as reverse_m3,
        cast(null as double precision) as battery_pct,
        cast(null as double precision) as signal_dbm,
        cast(null as varchar) as import_batch_id,
        cast(null as varchar) as source_file,
        cast(null as bigint) as source_row,
        cast(null as timestamp with time zone) as loaded_at
    where false
),
{% endif %}

customer_meters as (
    select distinct
        site_id,
        meter_id
    from {{ ref('stg_metering__meters') }}
),

water_source as (
    select
        water.site_id,
        water.source_name,
        water.partition_day,
        water.meter_id,
        water.ts_utc as read_at,
        water.value_canonical as register_m3,
        cast(null as double precision) as interval_m3,
        cast(null as double precision) as reverse_m3,
        cast(null as double precision) as battery_pct,
        cast(null as double precision) as signal_dbm,
        water.batch_id as import_batch_id,
        water.source_file,
        water.source_row,
        water.loaded_at
    from {{ ref('stg_lake__readings') }} as water
    inner join customer_meters
        on water.site_id = customer_meters.site_id
        and water.meter_id = customer_meters.meter_id
    where water.measurand = 'totaliser'
        and water.value_canonical is not null
),

final as (
    select
        *,
        'metering' as origin
    from metering_source
    union all
    select
        *,
        'water' as origin
    from water_source
)

select * from final
