{#- Per meter and site-local day: readings expected, received and missing, completeness, and the
    VEE flags counted by kind — what the data-quality alert rules read. -#}
with

counts as (
    select * from {{ ref('int_quality_counts_daily') }}
    where scope = 'meter'
),

meters as (
    select * from {{ ref('stg_site_config__meters') }}
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
        coalesce(flag_counts.n_negative_delta, 0) as n_negative_delta
    from counts
    inner join meters
        on counts.site_id = meters.site_id
        and counts.scope_id = meters.meter_id
    left join flag_counts
        on counts.site_id = flag_counts.site_id
        and counts.scope_id = flag_counts.meter_id
        and counts.day = flag_counts.day
)

select * from final
