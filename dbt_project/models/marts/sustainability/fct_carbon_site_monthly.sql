{#- fct_carbon_site_daily summed over each site's months; the per-m3 figures are recomputed from
    the month's sums, not averaged over days. -#}
with

daily as (
    select * from {{ ref('fct_carbon_site_daily') }}
),

monthly as (
    select
        site_id,
        month_start,
        sum(scope1_kg_co2e) as scope1_kg_co2e,
        sum(scope2_kg_co2e) as scope2_kg_co2e,
        sum(total_kg_co2e) as total_kg_co2e,
        sum(grid_kwh) as grid_kwh,
        sum(diesel_l) as diesel_l,
        sum(pumping_kwh) as pumping_kwh,
        sum(pumping_kg_co2e) as pumping_kg_co2e,
        sum(pumped_m3) as pumped_m3,
        sum(treatment_kg_co2e) as treatment_kg_co2e,
        sum(treated_m3) as treated_m3,
        cast(count(*) as bigint) as n_days,
        {{ count_where('not has_every_factor') }} as n_days_missing_factor
    from daily
    group by site_id, month_start
),

final as (
    select
        site_id,
        month_start,
        scope1_kg_co2e,
        scope2_kg_co2e,
        total_kg_co2e,
        grid_kwh,
        diesel_l,
        pumping_kwh,
        pumping_kg_co2e,
        pumped_m3,
        {{ safe_divide('pumping_kg_co2e', 'pumped_m3') }} as kg_co2e_per_m3_pumped,
        {{ safe_divide('pumping_kwh', 'pumped_m3') }} as kwh_per_m3_pumped,
        treatment_kg_co2e,
        treated_m3,
        {{ safe_divide('treatment_kg_co2e', 'treated_m3') }} as kg_co2e_per_m3_treated,
        n_days,
        n_days_missing_factor
    from monthly
)

select * from final
