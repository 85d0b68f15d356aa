{#- The site row of each day counts exactly the readings of its meters' rows. -#}
with

counts as (
    select * from {{ ref('int_quality_counts_daily') }}
    where {{ in_day_window('day') }}
),

meters as (
    select
        site_id,
        day,
        sum(n_expected) as n_expected,
        sum(n_received) as n_received,
        sum(n_invalid) as n_invalid,
        sum(n_estimated) as n_estimated,
        count(*) as n_meters
    from counts
    where scope = 'meter'
    group by site_id, day
)

select counts.site_id, counts.day
from counts
inner join meters
    on counts.site_id = meters.site_id
    and counts.day = meters.day
where counts.scope = 'site'
    and (
        counts.n_expected <> meters.n_expected
        or counts.n_received <> meters.n_received
        or counts.n_invalid <> meters.n_invalid
        or counts.n_estimated <> meters.n_estimated
        or counts.n_meters <> meters.n_meters
    )
