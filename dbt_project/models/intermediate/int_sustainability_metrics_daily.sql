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

final as (
    select * from water_intensity
)

select * from final
