{#- Every kept lab and field result in its parameter's canonical unit, with where it was sampled:
    what the exceedance, treatment and flow quality marts read. -#}
with

results as (
    select * from {{ ref('int_lab_results_deduplicated') }}
),

points as (
    select * from {{ ref('stg_site_config__wq_sample_points') }}
),

parameters as (
    select * from {{ ref('stg_site_config__wq_parameters') }}
),

final as (
    select
        results.site_id,
        results.sample_point_id,
        points.sample_point_name,
        points.sample_point_role,
        points.node_id,
        points.flow_id,
        results.parameter_id,
        parameters.parameter_name,
        results.sampled_at_utc,
        results.sampled_at_local,
        results.sample_day,
        cast(date_trunc('month', results.sample_day) as date) as sample_month,
        results.value_canonical as value,
        results.unit_canonical as unit,
        results.is_below_detection,
        results.value_as_delivered,
        results.unit_as_delivered,
        results.lab,
        results.method,
        results.sample_id,
        results.n_copies,
        results.has_conflicting_copies,
        results.source_name,
        results.batch_id,
        results.source_file,
        results.source_row
    from results
    inner join points
        on results.site_id = points.site_id
        and results.sample_point_id = points.sample_point_id
    inner join parameters
        on results.site_id = parameters.site_id
        and results.parameter_id = parameters.parameter_id
)

select * from final
