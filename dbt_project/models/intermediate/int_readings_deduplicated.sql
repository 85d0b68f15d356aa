{{ config(**partitioned_by_day_config('reading_day')) }}

{#- One row per meter and instant. The lake keeps every delivered copy (re-deliveries, overlapping
    exports, rows repeated inside a file); the copy loaded last wins, and the number of copies and
    whether they disagree stay visible for the quality stage; batch_id and source_row lead back
    to the lake row (and its file, in stg_lake__readings). Readings of meters missing from the
    site file are left out. Only meter-days that hold a repeated instant go through the ranking:
    on a year of a 500-meter site (17.5 M readings) ranking every row took 18 s, the check 1 s. -#}
with

readings as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        -- the lake's day folder is the reading's site-local day: no time zone lookup per row
        partition_day as reading_day,
        value_canonical,
        batch_id,
        source_row,
        loaded_at
    from {{ ref('stg_lake__readings') }}
    where {{ in_day_window('partition_day', before=1, after=1) }}
        and {{ in_site_window('site_id') }}
        and measurand is not null
),

meter_days as (
    select
        site_id,
        meter_id,
        reading_day,
        count(*) as n_rows,
        count(distinct ts_utc) as n_instants
    from readings
    group by site_id, meter_id, reading_day
),

repeated as (
    select site_id, meter_id, reading_day
    from meter_days
    where n_rows > n_instants
),

single_copies as (
    select
        readings.*,
        1 as n_copies,
        false as has_conflicting_copies
    from readings
    where not exists (
        select 1
        from repeated
        where repeated.site_id = readings.site_id
            and repeated.meter_id = readings.meter_id
            and repeated.reading_day = readings.reading_day
    )
),

ranked as (
    select
        readings.*,
        row_number() over copies_latest_first as copy_rank,
        count(*) over copies as n_copies,
        min(readings.value_canonical) over copies <> max(readings.value_canonical) over copies
            as has_conflicting_copies
    from readings
    inner join repeated
        on readings.site_id = repeated.site_id
        and readings.meter_id = repeated.meter_id
        and readings.reading_day = repeated.reading_day
    window
        copies as (partition by readings.site_id, readings.meter_id, readings.ts_utc),
        copies_latest_first as (
            partition by readings.site_id, readings.meter_id, readings.ts_utc
            order by readings.loaded_at desc, readings.batch_id desc, readings.source_row desc
        )
),

latest_copies as (
    select
        site_id,
        meter_id,
        measurand,
        ts_utc,
        reading_day,
        value_canonical,
        batch_id,
        source_row,
        loaded_at,
        n_copies,
        has_conflicting_copies
    from ranked
    where copy_rank = 1
),

final as (
    select * from single_copies
    union all
    select * from latest_copies
)

select * from final
