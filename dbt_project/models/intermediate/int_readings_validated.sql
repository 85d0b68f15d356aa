{{ config(materialized='view') }}

{#- VEE output as one series: every received reading and every missing instant a meter's interval
    promised, with the value the balance uses. A reading without an invalid flag keeps its raw
    value; an invalid reading, or a gap, takes the estimate of int_readings_estimated when there
    is one, and has no validated value when there is none (method `none`: nothing valid to go
    on, or rain). The raw value stays beside it in `raw_value`.

    A view, not a table: a year of the 500-meter site is 17.5 M readings, and the only consumer
    (int_flow_rate_volumes) reads one measurand of one window, which DuckDB pushes into both
    branches; a table would copy every reading once more. -#}
with

readings as (
    select site_id, meter_id, measurand, ts_utc, reading_day, value_canonical
    from {{ ref('int_readings_deduplicated') }}
),

estimates as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        reading_day,
        reasons,
        estimation_method,
        estimated_value,
        is_prolonged
    from {{ ref('int_readings_estimated') }}
),

-- received readings; the estimates that join are those of invalid readings (a gap is an instant
-- without a reading)
received as (
    select
        readings.site_id,
        readings.meter_id,
        readings.measurand,
        readings.ts_utc,
        readings.reading_day,
        true as is_received,
        readings.value_canonical as raw_value,
        estimates.reasons,
        estimates.estimation_method,
        estimates.estimated_value,
        coalesce(estimates.is_prolonged, false) as is_prolonged
    from readings
    left join estimates
        on readings.site_id = estimates.site_id
        and readings.meter_id = estimates.meter_id
        and readings.ts_utc = estimates.ts_utc
),

-- missing instants: int_reading_flags raises `gap` only between two readings a meter sent, so
-- these never coincide with a received reading
missing as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        reading_day,
        false as is_received,
        cast(null as double precision) as raw_value,
        reasons,
        estimation_method,
        estimated_value,
        is_prolonged
    from estimates
    where reasons = 'gap'
),

series as (
    select * from received
    union all
    select * from missing
),

final as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        reading_day,
        is_received,
        raw_value,
        case
            when reasons is null then raw_value
            else estimated_value
        end as validated_value,
        reasons is not null and estimated_value is not null as is_estimated,
        estimation_method,
        reasons as estimation_reasons,
        is_prolonged
    from series
)

select * from final
