{{ config(**partitioned_by_day_config('day')) }}

{#- Daily volume of each flow-rate meter. A rate stamped t holds over [t, t + interval)
    (interval-beginning), so a day's volume is the sum of rate (m3/h) x interval (h) over the
    readings stamped in that site-local day; a missing reading is missing volume, which
    n_readings shows against the meter's expected count. -#}
with

readings as (
    select * from {{ ref('int_readings_deduplicated') }}
    where measurand = 'flow_rate'
        and value_canonical is not null
        and {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
    where measurand = 'flow_rate'
),

final as (
    select
        readings.site_id,
        readings.meter_id,
        readings.reading_day as day,
        meters.flow_id,
        count(*) as n_readings,
        sum(readings.value_canonical * meters.interval_hours) as volume_m3
    from readings
    inner join meters
        on readings.site_id = meters.site_id
        and readings.meter_id = meters.meter_id
    group by readings.site_id, readings.meter_id, readings.reading_day, meters.flow_id
)

select * from final
