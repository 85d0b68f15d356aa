with

sites as (
    select * from {{ ref('int_sites_enriched') }}
),

final as (
    select
        site_id,
        site_name,
        organisation,
        organisation_name,
        region,
        region_name,
        financial_year_start_month,
        timezone,
        regulators,
        is_water_stressed,
        quality_high_categories,
        closure_threshold_pct,
        node_balance_threshold_pct,
        store_high_pct,
        store_low_pct
    from sites
)

select * from final
