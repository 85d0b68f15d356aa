{#- Powder use of completed and invoiced jobs by site-local month of completion and powder:
    kg issued against the kg their films hold and the kg the theoretical coverage expects, the
    waste and its share, the coverage achieved, and the waste's cost at the month's FIFO cost
    per kg issued. -#}
with

job_costs as (
    select * from {{ ref('fct_job_costs') }}
    where month is not null
        and powder_material_id is not null
),

grouped as (
    select
        site_id,
        month,
        powder_material_id,
        count(*) as jobs,
        sum(area_m2) as area_m2,
        {{ count_where('powder_issued_kg is not null') }} as jobs_with_issues,
        sum(case when powder_issued_kg is not null then area_m2 end) as issued_area_m2,
        sum(powder_issued_kg) as powder_issued_kg,
        sum(case when powder_issued_kg is not null then film_powder_kg end) as film_powder_kg,
        sum(case when powder_issued_kg is not null then theoretical_powder_kg end)
            as theoretical_powder_kg,
        sum(powder_cost) as powder_cost
    from job_costs
    group by site_id, month, powder_material_id
),

final as (
    select
        site_id,
        month,
        powder_material_id,
        cast(jobs as bigint) as jobs,
        jobs_with_issues,
        area_m2,
        powder_issued_kg,
        film_powder_kg,
        theoretical_powder_kg,
        powder_issued_kg - film_powder_kg as powder_waste_kg,
        {{ safe_divide('(powder_issued_kg - film_powder_kg) * 100', 'powder_issued_kg') }}
            as powder_waste_pct,
        powder_issued_kg - theoretical_powder_kg as excess_over_theoretical_kg,
        {{ safe_divide('issued_area_m2', 'powder_issued_kg') }} as actual_coverage_m2_per_kg,
        {{ safe_divide('issued_area_m2', 'theoretical_powder_kg') }}
            as theoretical_coverage_m2_per_kg,
        powder_cost,
        {{ safe_divide('powder_cost', 'powder_issued_kg') }} as powder_cost_per_kg,
        {{ safe_divide('powder_cost * (powder_issued_kg - film_powder_kg)', 'powder_issued_kg') }}
            as powder_waste_cost
    from grouped
)

select * from final
