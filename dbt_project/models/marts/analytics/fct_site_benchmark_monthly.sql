{#- Sites benchmarked against their peers (the sites of the same organisation) per calendar
    month: water intensity, recycled share of task feed, absolute closure error and demand per
    day, each with its rank (1 = best), percentile, the peers' median and the distance from it.
    The measures are the monthly site balance's own; nothing is recomputed from days. -#}
with

site_months as (
    select * from {{ ref('fct_site_balance_monthly') }}
),

sites as (
    select * from {{ ref('dim_sites') }}
),

{%- set benchmark_metrics = [
    ('water_intensity_m3_per_t', 'm3/t', 'lower', 'site_months.water_intensity_m3_per_t'),
    ('recycled_share_pct', 'pct', 'higher', '100.0 * site_months.recycling_ratio'),
    ('closure_error_abs_pct', 'pct', 'lower', 'abs(site_months.closure_error_pct)'),
    ('demand_m3_per_day', 'm3', 'lower',
        safe_divide('site_months.task_feed_m3', 'site_months.n_days')),
] %}

measures as (
    {% for metric, unit, better, expression in benchmark_metrics %}
    select
        site_months.site_id,
        sites.organisation,
        site_months.month_start,
        site_months.n_days,
        site_months.n_days_incomplete,
        '{{ metric }}' as metric,
        cast({{ expression }} as double precision) as value,
        '{{ unit }}' as unit,
        '{{ better }}' as better_direction,
        -- the value the ranking orders ascending: best first in both directions
        cast({{ expression }} as double precision){{ ' * -1' if better == 'higher' }}
            as ranking_value
    from site_months
    inner join sites
        on site_months.site_id = sites.site_id
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

peer_medians as (
    select
        organisation,
        month_start,
        metric,
        count(*) as n_sites_ranked,
        percentile_cont(0.5) within group (order by value) as peer_median
    from measures
    where value is not null
    group by organisation, month_start, metric
),

ranked as (
    select
        measures.*,
        {{ rank_within('ranking_value', ['organisation', 'month_start', 'metric'], 'asc') }}
            as site_rank
    from measures
),

final as (
    select
        ranked.site_id,
        ranked.organisation,
        ranked.month_start,
        ranked.metric,
        ranked.value,
        ranked.unit,
        ranked.better_direction,
        ranked.site_rank,
        peer_medians.n_sites_ranked,
        -- share of the other ranked peers this site beats: 100 best, 0 worst; a site ranked
        -- alone is 100; tied sites share the best rank of their tie
        case
            when ranked.site_rank is not null
                then coalesce(
                    100.0 * {{ safe_divide('peer_medians.n_sites_ranked - ranked.site_rank',
                        'peer_medians.n_sites_ranked - 1') }},
                    100.0
                )
        end as percentile,
        peer_medians.peer_median,
        ranked.value - peer_medians.peer_median as deviation_from_peer_median,
        100.0 * {{ safe_divide('ranked.value - peer_medians.peer_median',
            'abs(peer_medians.peer_median)') }} as deviation_from_peer_median_pct,
        ranked.n_days,
        ranked.n_days_incomplete
    from ranked
    left join peer_medians
        on ranked.organisation = peer_medians.organisation
        and ranked.month_start = peer_medians.month_start
        and ranked.metric = peer_medians.metric
)

select * from final
