{#- Every sustainability metric of every closed site-day as a numerator over a denominator, so
    that a period's value is the ratio of its sums (m3 over t, kg over m3) and never a mean of
    daily ratios. A day whose denominator is zero or unknown keeps its numerator: it still counts
    in the period sums. -#}
with

site_days as (
    select * from {{ ref('fct_site_balance_daily') }}
    where is_day_closed
),

water_intensity as (
    select
        site_id,
        day,
        'water_intensity_m3_per_t' as metric,
        inputs_m3 as numerator,
        ore_feed_t as denominator
    from site_days
),

-- the site's air on a day is its worst monitor's; a period's value is the mean daily AQI
air_quality as (
    select
        site_id,
        day,
        'aqi' as metric,
        max(aqi) as numerator,
        1.0 as denominator
    from {{ ref('fct_air_quality_daily') }}
    where aqi is not null
    group by site_id, day
),

final as (
    select * from water_intensity
    union all
    select * from air_quality
)

select * from final
