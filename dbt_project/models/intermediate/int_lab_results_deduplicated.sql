{#- One result per site, sample point, instant and parameter across re-delivered lab files: the
    copy loaded last wins (the later row of one file already won at import), as for readings;
    n_copies and has_conflicting_copies keep re-deliveries visible. -#}
with

results as (
    select * from {{ ref('stg_lake__lab_results') }}
    where value_canonical is not null
),

ranked as (
    select
        *,
        count(*) over copies as n_copies,
        min(value_canonical) over copies < max(value_canonical) over copies
            or bool_or(is_below_detection) over copies
            <> bool_and(is_below_detection) over copies
            as has_conflicting_copies,
        row_number() over (
            partition by site_id, sample_point_id, sampled_at_utc, parameter_id
            order by loaded_at desc, batch_id desc, source_row desc
        ) as copy_rank
    from results
    window copies as (partition by site_id, sample_point_id, sampled_at_utc, parameter_id)
),

final as (
    select
        site_id,
        sample_point_id,
        parameter_id,
        sampled_at_utc,
        sampled_at_local,
        sample_day,
        value_canonical,
        unit_canonical,
        value as value_as_delivered,
        unit as unit_as_delivered,
        is_below_detection,
        lab,
        method,
        sample_id,
        n_copies,
        has_conflicting_copies,
        source_name,
        batch_id,
        source_file,
        source_row
    from ranked
    where copy_rank = 1
)

select * from final
