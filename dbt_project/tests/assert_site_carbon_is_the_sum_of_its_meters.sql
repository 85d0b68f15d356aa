-- a check on the model whose claim this is (it reads the per-meter mart too)
{{ config(meta={'dagster': {'ref': {'name': 'fct_carbon_site_daily'}}}) }}

-- A site-day's scope 1 and scope 2 emissions are the sums of its meters' emissions.
with

site as (
    select * from {{ ref('fct_carbon_site_daily') }}
),

meters as (
    select
        site_id,
        day,
        sum(case when scope = 1 then coalesce(kg_co2e, 0) else 0 end) as scope1_kg_co2e,
        sum(case when scope = 2 then coalesce(kg_co2e, 0) else 0 end) as scope2_kg_co2e
    from {{ ref('fct_carbon_daily') }}
    group by site_id, day
)

select
    site.site_id,
    site.day,
    site.scope1_kg_co2e,
    meters.scope1_kg_co2e as meters_scope1_kg_co2e,
    site.scope2_kg_co2e,
    meters.scope2_kg_co2e as meters_scope2_kg_co2e
from site
inner join meters
    on site.site_id = meters.site_id
    and site.day = meters.day
where abs(site.scope1_kg_co2e - meters.scope1_kg_co2e) > 1e-6
    or abs(site.scope2_kg_co2e - meters.scope2_kg_co2e) > 1e-6
