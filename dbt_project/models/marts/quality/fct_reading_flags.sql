{#- Every VEE flag on every reading (and missing reading), with the estimate that stands in
    for an invalid or missing value: what a data steward reviews. Estimated values carry their
    own rows (flag 'estimated', and 'prolonged_estimation' past the meter's cap). -#}
with

flags as (
    select * from {{ ref('int_reading_flags') }}
),

estimates as (
    select * from {{ ref('int_readings_estimated') }}
),

flag_rows as (
    select
        flags.site_id,
        flags.meter_id,
        flags.measurand,
        flags.ts_utc,
        flags.reading_day as day,
        flags.flag,
        flags.severity,
        flags.value_canonical as value,
        estimates.estimated_value,
        estimates.estimation_method,
        flags.detail,
        flags.batch_id,
        flags.source_row
    from flags
    left join estimates
        on flags.site_id = estimates.site_id
        and flags.meter_id = estimates.meter_id
        and flags.ts_utc = estimates.ts_utc
),

estimate_rows as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        reading_day as day,
        'estimated' as flag,
        'estimated' as severity,
        cast(null as double precision) as value,
        estimated_value,
        estimation_method,
        estimation_method || ' for ' || reasons as detail,
        cast(null as varchar) as batch_id,
        cast(null as bigint) as source_row
    from estimates
    where estimation_method <> 'none'
),

prolonged_rows as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        reading_day as day,
        'prolonged_estimation' as flag,
        'warning' as severity,
        cast(null as double precision) as value,
        estimated_value,
        estimation_method,
        'estimated for ' || {{ number_text('hours_into_estimation') }} || ' h in a row'
            as detail,
        cast(null as varchar) as batch_id,
        cast(null as bigint) as source_row
    from estimates
    where is_prolonged
),

final as (
    select * from flag_rows
    union all
    select * from estimate_rows
    union all
    select * from prolonged_rows
)

select * from final
