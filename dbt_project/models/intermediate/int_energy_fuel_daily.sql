{{ config(**partitioned_by_day_config('day')) }}

{#- kWh and litres per meter and site-local day, the activity data of carbon accounting.
    An energy register (cumulative kWh) counts the change between consecutive readings on the
    day of the earlier reading, as totalisers do, by the rollover and reset rules of the macro
    energy_register_deltas (macros/energy.sql). A power meter (kW) is integrated over its
    interval; a fuel meter (L over its interval) is summed. -#}
with

readings as (
    select site_id, meter_id, measurand, ts_utc, reading_day, value_canonical
    from {{ ref('int_readings_deduplicated') }}
    where measurand in ('energy', 'power', 'fuel')
        and value_canonical is not null
        and {{ in_day_window('reading_day', after=1) }}
        and {{ in_site_window('site_id') }}
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
    where measurand in ('energy', 'power', 'fuel')
),

register_deltas as (
    {{ energy_register_deltas('readings', 'meters') }}
),

energy as (
    select
        site_id,
        meter_id,
        day,
        'energy' as measurand,
        count(*) as n_readings,
        sum(delta_kwh) as amount,
        {{ count_where("delta_kind = 'rollover'") }} as n_rollovers,
        {{ count_where("delta_kind = 'reset'") }} as n_resets
    from register_deltas
    group by site_id, meter_id, day
),

interval_amounts as (
    select
        readings.site_id,
        readings.meter_id,
        readings.reading_day as day,
        readings.measurand,
        count(*) as n_readings,
        sum(
            case
                when readings.measurand = 'power'
                    then readings.value_canonical * meters.interval_hours
                else readings.value_canonical
            end
        ) as amount,
        0 as n_rollovers,
        0 as n_resets
    from readings
    inner join meters
        on readings.site_id = meters.site_id
        and readings.meter_id = meters.meter_id
    where readings.measurand in ('power', 'fuel')
    group by readings.site_id, readings.meter_id, readings.reading_day, readings.measurand
),

unioned as (
    select * from energy
    union all
    select * from interval_amounts
),

final as (
    select
        site_id,
        meter_id,
        day,
        measurand,
        case when measurand = 'fuel' then 'L' else 'kWh' end as amount_unit,
        amount,
        cast(n_readings as bigint) as n_readings,
        cast(n_rollovers as bigint) as n_rollovers,
        cast(n_resets as bigint) as n_resets
    from unioned
    where {{ in_day_window('day') }}
)

select * from final
