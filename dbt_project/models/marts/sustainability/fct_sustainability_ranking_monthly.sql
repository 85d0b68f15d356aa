{#- The monthly sustainability index of each site (weighted mean of its monthly component
    scores) and the site's rank among the sites of its organisation that month: 1 is the best;
    a site without any scored component that month is not ranked. -#}
with

monthly as (
    select * from {{ ref('fct_sustainability_monthly') }}
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

site_months as (
    select
        site_id,
        month_start,
        sum(case when weight is not null and score is not null then weight * score end)
            as weighted_score,
        sum(case when weight is not null and score is not null then weight end)
            as scored_weight,
        count(case when weight is not null and score is not null then 1 end)
            as n_components_scored
    from monthly
    group by site_id, month_start
),

indexed as (
    select
        site_months.site_id,
        sites.organisation,
        sites.organisation_name,
        site_months.month_start,
        {{ safe_divide('site_months.weighted_score', 'site_months.scored_weight') }}
            as sustainability_index,
        site_months.n_components_scored,
        coalesce(components.n_components, 0) as n_components,
        {{ safe_divide(
            '100.0 * (coalesce(site_months.scored_weight, 0))', 'components.total_weight') }}
            as weight_covered_pct
    from site_months
    inner join sites
        on site_months.site_id = sites.site_id
    left join components
        on site_months.site_id = components.site_id
),

final as (
    select
        indexed.*,
        case
            when sustainability_index is not null
                then rank() over (
                    partition by organisation, month_start, sustainability_index is null
                    order by sustainability_index desc
                )
        end as organisation_rank,
        count(sustainability_index) over (
            partition by organisation, month_start
        ) as n_sites_ranked
    from indexed
)

select * from final
