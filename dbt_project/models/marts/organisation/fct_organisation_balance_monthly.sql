{#- The water balance of every organisation and every region of it per month, in ML: the sum of
    its sites' site-local months (a Perth month and a Brisbane month of the same name add up). -#}
with

site_months as (
    select * from {{ ref('fct_site_balance_period') }}
    where period_kind = 'month'
),

sites as (
    select * from {{ ref('dim_sites') }}
),

site_rows as (
    select
        site_months.*,
        sites.organisation,
        sites.organisation_name,
        coalesce(nullif(sites.region, ''), 'unassigned') as region,
        coalesce(nullif(sites.region_name, ''), 'Unassigned') as region_name
    from site_months
    inner join sites
        on site_months.site_id = sites.site_id
),

consolidated as (
    {{ consolidate_sites('site_rows', ['period_start']) }}
),

final as (
    select
        scope,
        organisation,
        scope_id,
        scope_name,
        period_start as month_start,
        n_sites,
        n_sites_complete,
        first_day,
        last_day,
        {{ consolidated_measures() }}
    from consolidated
)

select * from final
