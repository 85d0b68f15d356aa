{#- The site-local days a run computes: for each site, every day from its first to its last
    reading, cut to the run's rewrite window and the site's plausible days (plausible_days.sql).
    Local midnights are converted to UTC here once. A day is closed once readings reach its
    closing midnight: until then its last totaliser deltas and closing levels are still to come
    and its balance is provisional. -#}
with

sites as (
    select * from {{ ref('int_sites_enriched') }}
    where {{ in_site_window('site_id') }}
),

readings as (
    select * from {{ ref('int_readings_deduplicated') }}
    where {{ in_day_window('reading_day') }}
        and {{ in_site_window('site_id') }}
),

extent as (
    select
        site_id,
        min(reading_day) as first_day,
        -- never past the plausible days, whatever reached the lake (stg_lake__readings leaves
        -- out readings before the first day of data)
        least(max(reading_day), {{ last_plausible_day() }}) as last_day
    from readings
    group by site_id
),

reach as (
    select
        site_id,
        max(ts_utc) as last_reading_utc
    from {{ ref('int_readings_deduplicated') }}
    where {{ in_day_window('reading_day', after=1) }}
        and {{ in_site_window('site_id') }}
    group by site_id
),

days as (
    select
        site_id,
        {{ unnest_days('first_day', 'last_day') }} as day
    from extent
),

with_bounds as (
    select
        days.site_id,
        days.day,
        {{ month_start('days.day') }} as month_start,
        {{ days_in_month('days.day') }} as days_in_month,
        sites.timezone,
        {{ local_to_utc('days.day', 'sites.timezone') }} as day_start_utc,
        {{ local_to_utc(add_days('days.day', 1), 'sites.timezone') }} as day_end_utc,
        reach.last_reading_utc
    from days
    inner join sites
        on days.site_id = sites.site_id
    inner join reach
        on days.site_id = reach.site_id
),

final as (
    select
        site_id,
        day,
        month_start,
        days_in_month,
        timezone,
        day_start_utc,
        day_end_utc,
        last_reading_utc >= day_end_utc as is_closed
    from with_bounds
)

select * from final
