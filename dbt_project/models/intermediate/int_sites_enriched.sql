with

sites as (
    select * from {{ ref('stg_site_config__sites') }}
),

thresholds as (
    select * from {{ ref('stg_site_config__thresholds') }}
),

final as (
    select
        sites.site_id,
        sites.site_name,
        sites.organisation,
        sites.organisation_name,
        sites.region,
        sites.region_name,
        sites.financial_year_start_month,
        sites.timezone,
        sites.regulators,
        sites.is_water_stressed,
        sites.quality_high_categories,
        -- site-file defaults (siteledger.site.models.Thresholds) when the table lacks a row
        coalesce(thresholds.closure_threshold_pct, 5.0) as closure_threshold_pct,
        coalesce(thresholds.node_balance_threshold_pct, 10.0) as node_balance_threshold_pct,
        thresholds.store_high_pct,
        thresholds.store_low_pct
    from sites
    left join thresholds
        on sites.site_id = thresholds.site_id
)

select * from final
