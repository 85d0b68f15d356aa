{#- The metering settings of every site, one row per site: the exported settings
    (stg_site_config__metering_settings), each setting falling back to the default of the site
    file's `metering:` section (docs/metering.md) where the site has no row, with the site's time
    zone, the night and peak hours as lists of local hours and the low-balance days as a list,
    largest first. A zone whose January and July
    offsets agree has no daylight saving: the metering models shift its instants by the fixed
    utc_offset_us instead of looking each one up (macros/metering.sql). -#}
with

sites as (
    select
        site_id,
        timezone
    from {{ ref('stg_site_config__sites') }}
),

settings as (
    select * from {{ ref('stg_site_config__metering_settings') }}
),

resolved as (
    select
        sites.site_id,
        sites.timezone,
        coalesce(settings.currency, 'IDR') as currency,
        coalesce(settings.emergency_credit, 20000.0) as emergency_credit,
        coalesce(settings.low_balance_threshold, 25000.0) as low_balance_threshold,
        coalesce(settings.low_balance_days, '7,3,1') as low_balance_days,
        coalesce(settings.credit_days_window, 7) as credit_days_window,
        coalesce(settings.night_start_hour, 2) as night_start_hour,
        coalesce(settings.night_end_hour, 5) as night_end_hour,
        coalesce(settings.night_flow_l_per_h, 10.0) as night_flow_l_per_h,
        coalesce(settings.zero_flow_l_per_h, 1.0) as zero_flow_l_per_h,
        coalesce(settings.intermittent_min_hours, 12) as intermittent_min_hours,
        coalesce(settings.burst_q3_fraction, 0.2) as burst_q3_fraction,
        coalesce(settings.default_q3_m3_per_h, 2.5) as default_q3_m3_per_h,
        coalesce(settings.reverse_flow_l, 5.0) as reverse_flow_l,
        coalesce(settings.offline_after_intervals, 3) as offline_after_intervals,
        coalesce(settings.low_battery_pct, 10.0) as low_battery_pct,
        coalesce(settings.weak_signal_dbm, -110.0) as weak_signal_dbm,
        coalesce(settings.per_capita_benchmark_l, 100.0) as per_capita_benchmark_l,
        coalesce(settings.peak_hours, '7,8,18,19,20') as peak_hours,
        coalesce(settings.revenue_drop_pct, 20.0) as revenue_drop_pct,
        coalesce(settings.maintenance_due_days, 14) as maintenance_due_days
    from sites
    left join settings
        on sites.site_id = settings.site_id
),

offsets as (
    select
        *,
        -- the zone's offset in January and July: equal = no daylight saving, a fixed offset
        epoch_us(timezone(timezone, timestamptz '2025-01-15 12:00:00+00'))
        - epoch_us(timestamptz '2025-01-15 12:00:00+00') as january_offset_us,
        epoch_us(timezone(timezone, timestamptz '2025-07-15 12:00:00+00'))
        - epoch_us(timestamptz '2025-07-15 12:00:00+00') as july_offset_us
    from resolved
),

final as (
    select
        * exclude (january_offset_us, july_offset_us),
        january_offset_us != july_offset_us as has_dst,
        january_offset_us as utc_offset_us,
        -- the local hours of the night: [night_start, night_end), wrapping past midnight
        case
            when night_start_hour < night_end_hour
                then range(night_start_hour, night_end_hour)
            else list_concat(range(night_start_hour, 24), range(0, night_end_hour))
        end as night_hours,
        case
            when trim(peak_hours) = '' then cast([] as integer [])
            else cast(string_split(peak_hours, ',') as integer [])
        end as peak_hour_list,
        -- the days-of-credit-left levels, largest first (7, 3, 1 by default)
        case
            when trim(low_balance_days) = '' then cast([] as integer [])
            else list_reverse_sort(cast(string_split(low_balance_days, ',') as integer []))
        end as low_balance_day_levels
    from offsets
)

select * from final
