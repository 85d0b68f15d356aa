{#- Each result (single-sample limits) or calendar-month mean (monthly-mean limits) of a discharge
    point against each licence limit on its parameter.

    Below detection (docs/water-quality-and-incidents.md): a result reported as "< DL" lies
    between 0 and DL, so every value has a low and a high bound (equal for a measured result;
    0 and DL below detection). A max limit is exceeded when the low bound is above it and met
    when the high bound is at or below it; a min limit is exceeded when the high bound is below
    it and met when the low bound is at or above it; anything else is indeterminate, never
    counted as an exceedance. A monthly mean has the means of the bounds. -#}
with

results as (
    select * from {{ ref('fct_water_quality_results') }}
    where sample_point_role = 'discharge'
),

limits as (
    select * from {{ ref('stg_site_config__wq_limits') }}
),

bounded as (
    select
        *,
        case when is_below_detection then 0.0 else value end as value_low,
        value as value_high
    from results
),

single_samples as (
    select
        limits.site_id,
        limits.limit_id,
        limits.sample_point_id,
        limits.parameter_id,
        limits.limit_basis,
        bounded.sample_day as period_start,
        bounded.sample_day as period_end,
        bounded.sampled_at_utc as evaluated_at_utc,
        1 as n_results,
        case when bounded.is_below_detection then 1 else 0 end as n_below_detection,
        bounded.value_high as value,
        bounded.value_low,
        limits.unit_canonical as unit,
        limits.limit_min,
        limits.limit_max,
        limits.licence_reference
    from limits
    inner join bounded
        on limits.site_id = bounded.site_id
        and limits.sample_point_id = bounded.sample_point_id
        and limits.parameter_id = bounded.parameter_id
    where limits.limit_basis = 'single_sample'
),

monthly_means as (
    select
        limits.site_id,
        limits.limit_id,
        limits.sample_point_id,
        limits.parameter_id,
        limits.limit_basis,
        bounded.sample_month as period_start,
        cast(bounded.sample_month + interval '1 month' - interval '1 day' as date) as period_end,
        max(bounded.sampled_at_utc) as evaluated_at_utc,
        count(*) as n_results,
        sum(case when bounded.is_below_detection then 1 else 0 end) as n_below_detection,
        avg(bounded.value_high) as value,
        avg(bounded.value_low) as value_low,
        limits.unit_canonical as unit,
        limits.limit_min,
        limits.limit_max,
        limits.licence_reference
    from limits
    inner join bounded
        on limits.site_id = bounded.site_id
        and limits.sample_point_id = bounded.sample_point_id
        and limits.parameter_id = bounded.parameter_id
    where limits.limit_basis = 'monthly_mean'
    group by
        limits.site_id, limits.limit_id, limits.sample_point_id, limits.parameter_id,
        limits.limit_basis, bounded.sample_month, limits.unit_canonical, limits.limit_min,
        limits.limit_max, limits.licence_reference
),

evaluated as (
    select * from single_samples
    union all
    select * from monthly_means
),

judged as (
    select
        *,
        coalesce(value_low > limit_max, false) as is_above_max,
        coalesce(value < limit_min, false) as is_below_min,
        (limit_max is null or value <= limit_max)
        and (limit_min is null or value_low >= limit_min) as is_within
    from evaluated
),

final as (
    select
        site_id,
        limit_id,
        sample_point_id,
        parameter_id,
        limit_basis,
        period_start,
        period_end,
        evaluated_at_utc,
        n_results,
        n_below_detection,
        value,
        value_low,
        unit,
        limit_min,
        limit_max,
        case
            when is_above_max or is_below_min then 'exceeded'
            when is_within then 'within'
            else 'indeterminate'
        end as status,
        is_above_max or is_below_min as is_exceeded,
        case
            when is_above_max then 'above_max'
            when is_below_min then 'below_min'
        end as exceedance_side,
        -- headroom to the nearer bound (negative: by how much the limit is exceeded); least()
        -- skips the bound a limit does not have
        least(limit_max - value, value - limit_min) as margin,
        round(
            100.0 * least(
                (limit_max - value) / nullif(abs(limit_max), 0),
                (value - limit_min) / nullif(abs(limit_min), 0)
            ),
            4
        ) as margin_pct,
        licence_reference
    from judged
)

select * from final
