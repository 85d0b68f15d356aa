{{ config(**partitioned_by_day_config('day')) }}

{#- Each load's site-local day: energy, peak kW (highest 15-minute average, clock-aligned),
    mean kW over the hours metered, load factor = mean / peak, baseload = mean kW of the day's
    lowest 8 half-hours (Energy Sparks; null with fewer than 8 half-hours metered), and the kWh
    of intervals starting outside the load's operating hours (a load without operating hours has
    none: null) with their share of the day. -#}
with

loads as (
    select * from {{ ref('stg_site_config__energy_loads') }}
),

hours as (
    select * from {{ ref('stg_site_config__energy_load_hours') }}
),

intervals as (
    select * from {{ ref('int_energy_meter_intervals') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

loads_with_hours as (
    select distinct site_id, load_id from hours
),

load_intervals as (
    select
        loads.site_id,
        loads.load_id,
        intervals.day,
        intervals.ts_utc,
        intervals.hours,
        intervals.kwh,
        {{ iso_dow('intervals.local_ts') }} as iso_dow,
        {{ minute_of_day('intervals.local_ts') }} as start_minute,
        cast(floor({{ epoch_seconds('intervals.ts_utc') }} / 900) as bigint) as quarter_number,
        cast(floor({{ epoch_seconds('intervals.ts_utc') }} / 1800) as bigint) as half_hour_number
    from loads
    inner join intervals
        on loads.site_id = intervals.site_id
        and loads.meter_id = intervals.meter_id
),

classified as (
    select
        load_intervals.*,
        case
            when loads_with_hours.load_id is null then null
            when in_hours.load_id is null then load_intervals.kwh
            else 0
        end as out_of_hours_kwh
    from load_intervals
    left join loads_with_hours
        on load_intervals.site_id = loads_with_hours.site_id
        and load_intervals.load_id = loads_with_hours.load_id
    left join hours as in_hours
        on load_intervals.site_id = in_hours.site_id
        and load_intervals.load_id = in_hours.load_id
        and load_intervals.iso_dow = in_hours.iso_dow
        and load_intervals.start_minute >= in_hours.start_minute
        and load_intervals.start_minute < in_hours.end_minute
),

quarters as (
    select
        site_id,
        load_id,
        day,
        sum(kwh) / greatest(0.25, sum(hours)) as demand_kw
    from load_intervals
    group by site_id, load_id, day, quarter_number
),

half_hours as (
    select
        site_id,
        load_id,
        day,
        sum(kwh) / greatest(0.5, sum(hours)) as demand_kw,
        row_number() over (
            partition by site_id, load_id, day order by sum(kwh) / greatest(0.5, sum(hours))
        ) as rank_lowest,
        count(*) over (partition by site_id, load_id, day) as n_half_hours
    from load_intervals
    group by site_id, load_id, day, half_hour_number
),

baseloads as (
    select site_id, load_id, day, avg(demand_kw) as baseload_kw
    from half_hours
    where rank_lowest <= 8 and n_half_hours >= 8
    group by site_id, load_id, day
),

peaks as (
    select site_id, load_id, day, max(demand_kw) as peak_kw
    from quarters
    group by site_id, load_id, day
),

daily as (
    select
        site_id,
        load_id,
        day,
        sum(kwh) as energy_kwh,
        sum(hours) as metered_hours,
        sum(out_of_hours_kwh) as out_of_hours_kwh
    from classified
    group by site_id, load_id, day
),

final as (
    select
        daily.site_id,
        daily.load_id,
        loads.cost_centre_id,
        daily.day,
        daily.energy_kwh,
        peaks.peak_kw,
        {{ safe_divide('daily.energy_kwh', 'daily.metered_hours') }} as mean_kw,
        {{ safe_divide(safe_divide('daily.energy_kwh', 'daily.metered_hours'), 'peaks.peak_kw') }}
            as load_factor,
        baseloads.baseload_kw,
        daily.out_of_hours_kwh,
        {{ safe_divide('daily.out_of_hours_kwh', 'daily.energy_kwh') }} as out_of_hours_share,
        loads.anomaly_kwh_per_day
    from daily
    inner join loads
        on daily.site_id = loads.site_id
        and daily.load_id = loads.load_id
    left join peaks
        on daily.site_id = peaks.site_id
        and daily.load_id = peaks.load_id
        and daily.day = peaks.day
    left join baseloads
        on daily.site_id = baseloads.site_id
        and daily.load_id = baseloads.load_id
        and daily.day = baseloads.day
)

select * from final
