{{ config(**partitioned_by_day_config('reading_day')) }}

{#- Online water quality meters (TDS, pH, conductivity) on a flow, as daily means per flow and
    site-local day: what the flow quality check compares with the flow's declared category. A pH
    outside 0-14 is not a pH and is left out. -#}
with

readings as (
    select
        site_id,
        meter_id,
        measurand,
        reading_day,
        value_canonical
    from {{ ref('int_readings_deduplicated') }}
    where {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
        and measurand in ('tds', 'ph', 'conductivity')
        and value_canonical is not null
        and (measurand <> 'ph' or value_canonical between 0 and 14)
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
    where flow_id is not null
),

final as (
    select
        readings.site_id,
        meters.flow_id,
        readings.reading_day,
        avg(case when readings.measurand = 'tds' then readings.value_canonical end)
            as tds_mean_mg_l,
        avg(case when readings.measurand = 'ph' then readings.value_canonical end) as ph_mean,
        avg(case when readings.measurand = 'conductivity' then readings.value_canonical end)
            as ec_mean_us_cm,
        count(*) as n_readings
    from readings
    inner join meters
        on readings.site_id = meters.site_id
        and readings.meter_id = meters.meter_id
    group by readings.site_id, meters.flow_id, readings.reading_day
)

select * from final
