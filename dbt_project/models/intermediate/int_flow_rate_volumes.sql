{{ config(**partitioned_by_day_config('day')) }}

{#- Daily volume of each flow-rate meter, integrated over the validated series
    (int_readings_validated). A rate stamped t holds over [t, t + interval) (interval-beginning),
    so a day's volume is the sum of rate (m3/h) x interval (h) over the instants stamped in that
    site-local day: a valid reading counts with its raw value, an invalid one (a x10 spike, a
    stuck run) and a missing one (a gap between two readings) with its VEE estimate. The part of
    the volume that came from estimates is `estimated_volume_m3` over `n_estimated` instants.
    An invalid reading without an estimate counts nothing (the balance never uses a value VEE
    rejected), and neither does time before a meter's first or after its last reading (no gap
    is raised there): n_readings (received readings with a value, as before VEE fed the balance)
    against the meter's expected count still shows what was never delivered. -#}
with

series as (
    select * from {{ ref('int_readings_validated') }}
    where measurand = 'flow_rate'
        and {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
    where measurand = 'flow_rate'
),

final as (
    select
        series.site_id,
        series.meter_id,
        series.reading_day as day,
        meters.flow_id,
        {{ count_where('series.raw_value is not null') }} as n_readings,
        {{ count_where('series.is_estimated') }} as n_estimated,
        -- null when no instant of the day has a usable value (only rejected, unestimated readings)
        sum(series.validated_value * meters.interval_hours) as volume_m3,
        coalesce(
            sum(
                case when series.is_estimated then series.validated_value end
                * meters.interval_hours
            ),
            0
        ) as estimated_volume_m3
    from series
    inner join meters
        on series.site_id = meters.site_id
        and series.meter_id = meters.meter_id
    group by series.site_id, series.meter_id, series.reading_day, meters.flow_id
)

select * from final
