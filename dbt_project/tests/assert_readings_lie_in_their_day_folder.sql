-- a check on the model whose claim this is (it reads several models)
{{ config(meta={'dagster': {'ref': {'name': 'int_readings_deduplicated'}}}) }}

-- The lake's day= folder is the reading's site-local day (the importer's contract); downstream
-- models take the folder as the day instead of converting each timestamp, so check it per day
-- against the local midnights in UTC.
with

readings as (
    select
        site_id,
        reading_day,
        min(ts_utc) as first_ts_utc,
        max(ts_utc) as last_ts_utc
    from {{ ref('int_readings_deduplicated') }}
    where {{ in_day_window('reading_day') }}
    group by site_id, reading_day
),

days as (
    select * from {{ ref('int_site_days') }}
)

select
    readings.*,
    days.day_start_utc,
    days.day_end_utc
from readings
inner join days
    on readings.site_id = days.site_id
    and readings.reading_day = days.day
where readings.first_ts_utc < days.day_start_utc
    or readings.last_ts_utc >= days.day_end_utc
