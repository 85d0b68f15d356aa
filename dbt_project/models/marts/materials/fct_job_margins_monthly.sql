{#- The month's job profitability by job type and customer (fct_job_profitability_monthly) with
    what the materials alert rules judge it by: the margin of the same job type and customer in
    the month before and the change since in percentage points, and the site's margin floor and
    fall limit (its materials settings, int_material_sites). A pair without jobs the month
    before has no previous margin and no change. -#}
with

profitability as (
    select * from {{ ref('fct_job_profitability_monthly') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

final as (
    select
        profitability.site_id,
        profitability.month,
        profitability.job_type_id,
        profitability.customer_id,
        profitability.jobs,
        profitability.revenue,
        profitability.total_cost,
        profitability.margin,
        profitability.margin_pct,
        previous.margin_pct as margin_pct_previous,
        profitability.margin_pct - previous.margin_pct as margin_change_pct_points,
        sites.margin_floor_pct,
        sites.margin_fall_pct_points
    from profitability
    left join profitability as previous
        on profitability.site_id = previous.site_id
        and profitability.job_type_id = previous.job_type_id
        and profitability.customer_id = previous.customer_id
        and previous.month = cast({{ dbt.dateadd('month', -1, 'profitability.month') }} as date)
    left join sites
        on profitability.site_id = sites.site_id
)

select * from final
