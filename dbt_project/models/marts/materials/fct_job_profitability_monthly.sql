{#- Completed and invoiced jobs by site-local month of completion, job type and customer: jobs,
    area, cost by component, revenue and margin. -#}
with

job_costs as (
    select * from {{ ref('fct_job_costs') }}
    where month is not null
),

grouped as (
    select
        site_id,
        month,
        job_type_id,
        customer_id,
        count(*) as jobs,
        sum(area_m2) as area_m2,
        sum(powder_issued_kg) as powder_issued_kg,
        sum(powder_waste_kg) as powder_waste_kg,
        sum(labour_hours) as labour_hours,
        sum(standard_labour_hours) as standard_labour_hours,
        sum(powder_cost) as powder_cost,
        sum(other_materials_cost) as other_materials_cost,
        sum(labour_cost) as labour_cost,
        sum(oven_cost) as oven_cost,
        sum(overhead_cost) as overhead_cost,
        sum(consumables_cost) as consumables_cost,
        sum(total_cost) as total_cost,
        sum(revenue) as revenue,
        sum(margin) as margin,
        {{ count_where('not is_cost_complete') }} as jobs_cost_incomplete
    from job_costs
    group by site_id, month, job_type_id, customer_id
),

final as (
    select
        site_id,
        month,
        job_type_id,
        customer_id,
        cast(jobs as bigint) as jobs,
        area_m2,
        powder_issued_kg,
        powder_waste_kg,
        labour_hours,
        standard_labour_hours,
        {{ safe_divide('standard_labour_hours * 100', 'labour_hours') }} as labour_efficiency_pct,
        powder_cost,
        other_materials_cost,
        labour_cost,
        oven_cost,
        overhead_cost,
        consumables_cost,
        total_cost,
        {{ safe_divide('total_cost', 'area_m2') }} as cost_per_m2,
        revenue,
        margin,
        {{ safe_divide('margin * 100', 'revenue') }} as margin_pct,
        jobs_cost_incomplete
    from grouped
)

select * from final
