{#- VEE: every reading flagged invalid and every missing reading has exactly one estimation row
    (with method 'none' when nothing could stand in), and no estimation row lacks such a flag. -#}
with

needing as (
    select distinct site_id, meter_id, ts_utc
    from {{ ref('int_reading_flags') }}
    where severity in ('invalid', 'missing')
        and {{ in_day_window('reading_day') }}
),

estimated as (
    select site_id, meter_id, ts_utc
    from {{ ref('int_readings_estimated') }}
    where {{ in_day_window('reading_day') }}
)

select coalesce(needing.site_id, estimated.site_id) as site_id,
    coalesce(needing.meter_id, estimated.meter_id) as meter_id,
    coalesce(needing.ts_utc, estimated.ts_utc) as ts_utc,
    needing.site_id is null as has_no_flag,
    estimated.site_id is null as has_no_estimate
from needing
full outer join estimated
    on needing.site_id = estimated.site_id
    and needing.meter_id = estimated.meter_id
    and needing.ts_utc = estimated.ts_utc
where needing.site_id is null or estimated.site_id is null
