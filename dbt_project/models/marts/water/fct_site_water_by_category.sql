{#- Inputs by WAF source and outputs by destination as a long table, per day and per month:
    the rows of a WAF / ICMM withdrawal and discharge table. -#}
with

daily as (
    select * from {{ ref('int_water_by_category_daily') }}
),

by_period as (
    select
        site_id,
        'day' as period_grain,
        day as period_start,
        direction,
        waf_category,
        category_position,
        volume_m3,
        measured_m3,
        estimated_m3,
        simulated_m3,
        n_flows_missing
    from daily
    union all
    select
        site_id,
        'month' as period_grain,
        month_start as period_start,
        direction,
        waf_category,
        min(category_position) as category_position,
        sum(volume_m3) as volume_m3,
        sum(measured_m3) as measured_m3,
        sum(estimated_m3) as estimated_m3,
        sum(simulated_m3) as simulated_m3,
        cast(sum(n_flows_missing) as bigint) as n_flows_missing
    from daily
    group by site_id, month_start, direction, waf_category
),

final as (
    select
        site_id,
        period_grain,
        period_start,
        direction,
        waf_category,
        category_position,
        volume_m3,
        measured_m3,
        estimated_m3,
        simulated_m3,
        100.0 * {{ safe_divide('measured_m3', 'volume_m3') }} as measured_pct,
        100.0 * {{ safe_divide('estimated_m3', 'volume_m3') }} as estimated_pct,
        100.0 * {{ safe_divide('simulated_m3', 'volume_m3') }} as simulated_pct,
        n_flows_missing
    from by_period
)

select * from final
