{#- The sustainability index of each site and day: the weighted mean of the scores of the
    components that have a 30-day value that day. A component without data drops out and the
    remaining weights are renormalised; n_components_scored says how many the index rests on. -#}
with

metrics as (
    select * from {{ ref('fct_sustainability_metrics_daily') }}
),

components as (
    select
        site_id,
        count(*) as n_components,
        sum(weight) as total_weight
    from {{ ref('stg_site_config__sustainability_components') }}
    group by site_id
),

site_days as (
    select distinct site_id, day
    from metrics
),

scored as (
    select
        site_id,
        day,
        sum(weight * score_30d) as weighted_score,
        sum(weight) as scored_weight,
        count(*) as n_components_scored
    from metrics
    where weight is not null and score_30d is not null
    group by site_id, day
),

final as (
    select
        site_days.site_id,
        site_days.day,
        {{ safe_divide('scored.weighted_score', 'scored.scored_weight') }} as sustainability_index,
        coalesce(scored.n_components_scored, 0) as n_components_scored,
        coalesce(components.n_components, 0) as n_components,
        {{ safe_divide(
            '100.0 * (coalesce(scored.scored_weight, 0))', 'components.total_weight') }}
            as weight_covered_pct,
        coalesce(scored.n_components_scored, 0) = coalesce(components.n_components, 0)
            as is_complete
    from site_days
    left join scored
        on site_days.site_id = scored.site_id
        and site_days.day = scored.day
    left join components
        on site_days.site_id = components.site_id
)

select * from final
