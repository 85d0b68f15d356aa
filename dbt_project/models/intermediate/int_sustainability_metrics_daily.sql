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

reuse as (
    select * from {{ ref('fct_water_reuse_daily') }}
    where is_day_closed
),

-- water fed to tasks split by volume mixing through the stores
fresh_water_intensity as (
    select
        site_id,
        day,
        'fresh_water_intensity_m3_per_t' as metric,
        fresh_water_m3 as numerator,
        ore_feed_t as denominator
    from reuse
),

recycling_ratio as (
    select
        site_id,
        day,
        'recycling_ratio_pct' as metric,
        100.0 * (task_feed_worked_m3 + task_feed_treated_m3) as numerator,
        task_feed_m3 as denominator
    from reuse
),

reuse_ratio as (
    select
        site_id,
        day,
        'reuse_ratio_pct' as metric,
        100.0 * task_feed_worked_m3 as numerator,
        task_feed_m3 as denominator
    from reuse
),

-- scope 1 and 2 of the pumps' and the treatment's meters over the water the metered pumps moved;
-- a site without energy meters pumps nothing on record and has no value
carbon_intensity as (
    select
        site_id,
        day,
        'carbon_kg_per_m3' as metric,
        pumping_kg_co2e + treatment_kg_co2e as numerator,
        pumped_m3 as denominator
    from {{ ref('fct_carbon_site_daily') }}
    where is_day_closed and pumped_m3 > 0
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
    select * from fresh_water_intensity
    union all
    select * from recycling_ratio
    union all
    select * from reuse_ratio
    union all
    select * from carbon_intensity
    union all
    select * from air_quality
)

select * from final
