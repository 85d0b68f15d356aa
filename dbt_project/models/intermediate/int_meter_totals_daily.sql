{{ config(**partitioned_by_day_config('day')) }}

{#- Daily totals and means of the meters that drive estimation rules and intensity: rain and pan
    depth (mm), ore tonnes, moisture %, and interval volumes. Quantities measured over the
    reading interval add up (a daily manual reading is stamped at 00:00 of the day it describes);
    rates (t/h, m3/h) are integrated over their interval; states (moisture) are averaged. -#}
with

readings as (
    select * from {{ ref('int_readings_deduplicated') }}
    where measurand in ('rainfall', 'evaporation_pan', 'ore_mass', 'ore_rate', 'moisture', 'volume')
        and value_canonical is not null
        and {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
),

final as (
    select
        readings.site_id,
        readings.meter_id,
        readings.reading_day as day,
        readings.measurand,
        case
            when readings.measurand = 'ore_rate' then 't' else meters.unit_canonical
        end as total_unit,
        count(*) as n_readings,
        case
            when readings.measurand = 'ore_rate'
                then sum(readings.value_canonical * meters.interval_hours)
            else sum(readings.value_canonical)
        end as total_value,
        avg(readings.value_canonical) as mean_value
    from readings
    inner join meters
        on readings.site_id = meters.site_id
        and readings.meter_id = meters.meter_id
    group by
        readings.site_id,
        readings.meter_id,
        readings.reading_day,
        readings.measurand,
        meters.unit_canonical
)

select * from final
