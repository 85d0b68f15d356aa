{{ config(meta={'dagster': {'ref': {'name': 'fct_organisation_balance_annual'}}}) }}

-- Every organisation's and region's monthly and annual inputs, outputs, storage change and
-- closure error are the sums of its sites' (to the m3: 0.001 ML).
with

sites as (
    select
        site_id,
        organisation,
        coalesce(nullif(region, ''), 'unassigned') as region
    from {{ ref('dim_sites') }}
),

site_periods as (
    select
        periods.*,
        sites.organisation,
        sites.region
    from {{ ref('fct_site_balance_period') }} as periods
    inner join sites
        on periods.site_id = sites.site_id
    where periods.period_kind in ('month', 'year')
),

site_sums as (
    select 'organisation' as scope, organisation, organisation as scope_id, period_kind,
        period_start, sum(inputs_m3) as inputs_m3, sum(outputs_m3) as outputs_m3,
        sum(storage_change_m3) as storage_change_m3, sum(closure_error_m3) as closure_error_m3
    from site_periods
    group by organisation, period_kind, period_start
    union all
    select 'region' as scope, organisation, region as scope_id, period_kind,
        period_start, sum(inputs_m3) as inputs_m3, sum(outputs_m3) as outputs_m3,
        sum(storage_change_m3) as storage_change_m3, sum(closure_error_m3) as closure_error_m3
    from site_periods
    group by organisation, region, period_kind, period_start
),

rollups as (
    select scope, organisation, scope_id, 'month' as period_kind, month_start as period_start,
        inputs_ml, outputs_ml, storage_change_ml, closure_error_ml
    from {{ ref('fct_organisation_balance_monthly') }}
    union all
    select scope, organisation, scope_id, 'year' as period_kind, period_start,
        inputs_ml, outputs_ml, storage_change_ml, closure_error_ml
    from {{ ref('fct_organisation_balance_annual') }}
)

select
    site_sums.*,
    rollups.inputs_ml,
    rollups.closure_error_ml
from site_sums
full outer join rollups
    on site_sums.scope = rollups.scope
    and site_sums.organisation = rollups.organisation
    and site_sums.scope_id = rollups.scope_id
    and site_sums.period_kind = rollups.period_kind
    and site_sums.period_start = rollups.period_start
where rollups.scope is null
    or site_sums.scope is null
    or abs(coalesce(1000 * rollups.inputs_ml, 0) - coalesce(site_sums.inputs_m3, 0)) > 1
    or abs(coalesce(1000 * rollups.outputs_ml, 0) - coalesce(site_sums.outputs_m3, 0)) > 1
    or abs(
        coalesce(1000 * rollups.storage_change_ml, 0) - coalesce(site_sums.storage_change_m3, 0)
    ) > 1
    or (1000 * rollups.closure_error_ml is null) <> (site_sums.closure_error_m3 is null)
    or abs(1000 * rollups.closure_error_ml - site_sums.closure_error_m3) > 1
