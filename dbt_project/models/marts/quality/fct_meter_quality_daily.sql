{#- Per meter and site-local day: readings expected, received and missing, completeness, the
    VEE flags counted by kind and how long before the day's end the meter last reported — what
    the data-quality alert rules and the Great Expectations suites per meter class read. -#}
with

counts as (
    select * from {{ ref('int_quality_counts_daily') }}
    where scope = 'meter'
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
),

site_days as (
    select site_id, day, day_end_utc from {{ ref('int_site_days') }}
),

last_readings as (
    select
        site_id,
        meter_id,
        reading_day as day,
        max(ts_utc) as last_reading_utc
    from {{ ref('int_readings_deduplicated') }}
    group by site_id, meter_id, reading_day
),

flag_counts as (
    select
        site_id,
        meter_id,
        reading_day as day,
        count(case when flag = 'out_of_range' then 1 end) as n_out_of_range,
        count(case when flag = 'flat_line' then 1 end) as n_stuck,
        count(case when flag = 'spike' then 1 end) as n_spike,
        count(case when flag = 'negative_delta' then 1 end) as n_negative_delta
    from {{ ref('int_reading_flags') }}
    group by site_id, meter_id, reading_day
),

final as (
    select
        counts.site_id,
        counts.scope_id as meter_id,
        meters.measurand,
        meters.is_cumulative,
        meters.interval_hours,
        counts.day,
        counts.is_closed,
        counts.n_expected,
        counts.n_received,
        greatest(counts.n_expected - counts.n_received, 0) as n_missing,
        round(100.0 * least(counts.n_received, counts.n_expected) / counts.n_expected, 4)
            as completeness_pct,
        counts.n_invalid,
        counts.n_estimated,
        coalesce(flag_counts.n_out_of_range, 0) as n_out_of_range,
        coalesce(flag_counts.n_stuck, 0) as n_stuck,
        case when meters.measurand = 'level' then coalesce(flag_counts.n_spike, 0) else 0 end
            as n_level_jump,
        case when meters.measurand = 'level' then 0 else coalesce(flag_counts.n_spike, 0) end
            as n_spike,
        coalesce(flag_counts.n_negative_delta, 0) as n_negative_delta,
        last_readings.last_reading_utc,
        round(
            ({{ epoch_seconds('site_days.day_end_utc') }}
                - {{ epoch_seconds('last_readings.last_reading_utc') }}) / 3600.0,
            4
        ) as hours_since_last_reading
    from counts
    inner join meters
        on counts.site_id = meters.site_id
        and counts.scope_id = meters.meter_id
    left join flag_counts
        on counts.site_id = flag_counts.site_id
        and counts.scope_id = flag_counts.meter_id
        and counts.day = flag_counts.day
    left join last_readings
        on counts.site_id = last_readings.site_id
        and counts.scope_id = last_readings.meter_id
        and counts.day = last_readings.day
    left join site_days
        on counts.site_id = site_days.site_id
        and counts.day = site_days.day
)

select * from final
