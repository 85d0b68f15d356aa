{#- Sites side by side per financial year: water intensity, withdrawal per tonne of ore, closure
    and recycled share, with each site's rank within its organisation and its region. -#}
with

site_years as (
    select * from {{ ref('fct_site_balance_period') }}
    where period_kind = 'year'
),

sites as (
    select * from {{ ref('dim_sites') }}
),

measures as (
    select
        site_years.site_id,
        sites.site_name,
        sites.organisation,
        coalesce(nullif(sites.region, ''), 'unassigned') as region,
        site_years.financial_year,
        site_years.period_start,
        site_years.period_end,
        site_years.is_complete,
        site_years.n_days,
        site_years.inputs_m3 / 1000.0 as inputs_ml,
        -- withdrawal: water taken from surface, ground, sea and third parties (GRI 303-3),
        -- i.e. inputs without the `other` source (ore moisture and the like)
        (site_years.inputs_m3 - coalesce(site_years.input_other_m3, 0)) / 1000.0
            as withdrawal_ml,
        site_years.outputs_m3 / 1000.0 as outputs_ml,
        site_years.storage_change_m3 / 1000.0 as storage_change_ml,
        site_years.closure_error_m3 / 1000.0 as closure_error_ml,
        site_years.ore_feed_t,
        site_years.water_intensity_m3_per_t,
        {{ safe_divide('site_years.inputs_m3 - coalesce(site_years.input_other_m3, 0)',
            'site_years.ore_feed_t') }} as withdrawal_m3_per_t,
        site_years.closure_error_pct,
        abs(site_years.closure_error_pct) as closure_error_abs_pct,
        site_years.closure_status,
        100.0 * site_years.recycling_ratio as recycled_share_pct,
        site_years.input_measured_pct
    from site_years
    inner join sites
        on site_years.site_id = sites.site_id
),

final as (
    select
        *,
        count(*) over (partition by organisation, financial_year) as n_sites_in_organisation,
        count(*) over (partition by organisation, region, financial_year) as n_sites_in_region,
        {% for metric, order in [
            ('water_intensity_m3_per_t', 'asc'),
            ('withdrawal_m3_per_t', 'asc'),
            ('closure_error_abs_pct', 'asc'),
            ('recycled_share_pct', 'desc'),
        ] -%}
        {{ rank_within(metric, ['organisation', 'financial_year'], order) }}
            as {{ metric }}_rank_in_organisation,
        {{ rank_within(metric, ['organisation', 'region', 'financial_year'], order) }}
            as {{ metric }}_rank_in_region{{ ',' if not loop.last }}
        {% endfor %}
    from measures
)

select * from final
