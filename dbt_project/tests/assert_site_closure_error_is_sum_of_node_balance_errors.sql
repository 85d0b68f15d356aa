-- a check on the model whose claim this is (it reads several models)
{{ config(meta={'dagster': {'ref': {'name': 'fct_site_balance_daily'}}}) }}

-- Flows between stores and tasks cancel out of the site balance, so on a complete day the site's
-- closure error equals the sum of its stores' and tasks' balance errors (inputs end in a store or
-- task, outputs leave one, diversions touch neither).
with

site as (
    select * from {{ ref('fct_site_balance_daily') }}
    where is_complete
),

nodes as (
    select
        site_id,
        day,
        sum(balance_error_m3) as node_errors_m3,
        {{ count_where('not is_complete') }} as n_incomplete
    from {{ ref('fct_node_balance_daily') }}
    group by site_id, day
)

select
    site.site_id,
    site.day,
    site.closure_error_m3,
    nodes.node_errors_m3
from site
inner join nodes
    on site.site_id = nodes.site_id
    and site.day = nodes.day
where nodes.n_incomplete = 0
    and abs(site.closure_error_m3 - nodes.node_errors_m3) > 1e-6 * greatest(1, site.inputs_m3)
