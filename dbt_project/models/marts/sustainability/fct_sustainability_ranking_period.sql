{#- The sustainability index of each site and reporting period (weighted mean of the period's
    component scores) and the site's rank among the sites of its organisation in that period:
    1 is the best; a site without any scored component in the period is not ranked. -#}
with

periods as (
    select * from {{ ref('fct_sustainability_period') }}
),

sites as (
    select site_id, organisation, organisation_name
    from {{ ref('dim_sites') }}
),

components as (
    select site_id, count(*) as n_components, sum(weight) as total_weight
    from {{ ref('stg_site_config__sustainability_components') }}
    group by site_id
),

site_periods as (
    select
        site_id,
        period_kind,
        period_start,
        period_key,
        sum(case when weight is not null and score is not null then weight * score end)
            as weighted_score,
        sum(case when weight is not null and score is not null then weight end)
            as scored_weight,
        count(case when weight is not null and score is not null then 1 end)
            as n_components_scored
    from periods
    group by site_id, period_kind, period_start, period_key
),

indexed as (
    select
        site_periods.site_id,
        sites.organisation,
        sites.organisation_name,
        site_periods.period_kind,
        site_periods.period_start,
        site_periods.period_key,
        {{ safe_divide('site_periods.weighted_score', 'site_periods.scored_weight') }}
            as sustainability_index,
        site_periods.n_components_scored,
        coalesce(components.n_components, 0) as n_components,
        {{ safe_divide(
            '100.0 * (coalesce(site_periods.scored_weight, 0))', 'components.total_weight') }}
            as weight_covered_pct
    from site_periods
    inner join sites
        on site_periods.site_id = sites.site_id
    left join components
        on site_periods.site_id = components.site_id
),

final as (
    select
        indexed.*,
        case
            when sustainability_index is not null
                then rank() over (
                    partition by
                        organisation, period_kind, period_start, sustainability_index is null
                    order by sustainability_index desc
                )
        end as organisation_rank,
        count(sustainability_index) over (
            partition by organisation, period_kind, period_start
        ) as n_sites_ranked
    from indexed
)

select * from final
