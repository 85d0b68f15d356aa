{#- The water balance of every organisation and every region of it per financial year (the
    organisation's first month), in ML: the sum of its sites' financial years. -#}
with

site_years as (
    select * from {{ ref('fct_site_balance_period') }}
    where period_kind = 'year'
),

sites as (
    select * from {{ ref('dim_sites') }}
),

site_rows as (
    select
        site_years.*,
        sites.organisation,
        sites.organisation_name,
        coalesce(nullif(sites.region, ''), 'unassigned') as region,
        coalesce(nullif(sites.region_name, ''), 'Unassigned') as region_name
    from site_years
    inner join sites
        on site_years.site_id = sites.site_id
),

consolidated as (
    {{ consolidate_sites('site_rows', ['financial_year', 'period_start', 'period_end']) }}
),

final as (
    select
        scope,
        organisation,
        scope_id,
        scope_name,
        financial_year,
        period_start,
        period_end,
        n_sites,
        n_sites_complete,
        first_day,
        last_day,
        {{ consolidated_measures() }}
    from consolidated
)

select * from final
