{{ config(**partitioned_by_day_config('delta_day')) }}

{#- Volume between consecutive readings of each totaliser, in m3, assigned to the site-local day
    of the earlier reading: a day's deltas then add up to value(next day 00:00) - value(00:00).
    A fall in the register is a rollover when the meter has one and the previous value sat in the
    top part of the register (the wrapped delta is rollover - previous + current); any other fall
    is a reset or a replaced meter, counted from zero (the delta is the new reading). -#}
with

readings as (
    select * from {{ ref('int_readings_deduplicated') }}
    where measurand = 'totaliser'
        and value_canonical is not null
        and {{ in_day_window('reading_day', after=1) }}
        and {{ in_site_window('site_id') }}
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
    where measurand = 'totaliser'
),

paired as (
    select
        site_id,
        meter_id,
        reading_day as delta_day,
        ts_utc as start_ts_utc,
        value_canonical as start_value_m3,
        lead(ts_utc) over meter_series as end_ts_utc,
        lead(value_canonical) over meter_series as end_value_m3
    from readings
    window meter_series as (partition by site_id, meter_id order by ts_utc)
),

classified as (
    select
        paired.site_id,
        paired.meter_id,
        meters.flow_id,
        paired.delta_day,
        paired.start_ts_utc,
        paired.end_ts_utc,
        paired.start_value_m3,
        paired.end_value_m3,
        meters.rollover_canonical as rollover_m3,
        paired.end_value_m3 - paired.start_value_m3 as register_change_m3,
        case
            -- a fall within the register's jitter is not a reset: a day delivered in L and
            -- converted back to m3 can read 483918.60000000003 after 483918.6
            when paired.end_value_m3
                >= paired.start_value_m3 - {{ var('totaliser_jitter_m3') }} then 'normal'
            when meters.rollover_canonical is not null
                and paired.start_value_m3
                    >= {{ var('rollover_top_fraction') }} * meters.rollover_canonical
                then 'rollover'
            else 'reset'
        end as delta_kind
    from paired
    inner join meters
        on paired.site_id = meters.site_id
        and paired.meter_id = meters.meter_id
    where paired.end_ts_utc is not null
),

final as (
    select
        site_id,
        meter_id,
        flow_id,
        delta_day,
        start_ts_utc,
        end_ts_utc,
        start_value_m3,
        end_value_m3,
        register_change_m3,
        delta_kind,
        case delta_kind
            -- a jitter fall counts as no flow (under 1 L by default), never as negative flow
            when 'normal' then greatest(register_change_m3, 0)
            when 'rollover' then register_change_m3 + rollover_m3
            else end_value_m3
        end as delta_m3
    from classified
    where {{ in_day_window('delta_day') }}
)

select * from final
