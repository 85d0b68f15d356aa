{#- Each job-shop job's cost and margin (powder coating). Powder: the FIFO cost of the job's
    powder issues (kg issued = area / actual coverage). Theoretical coverage (m2/kg) =
    1000 / (specific gravity x film um) x transfer efficiency (1 when the powder has none);
    the powder the film holds = area x film x SG / 1000 kg, and powder waste = kg issued - that.
    Labour = hours x the site's rate, against the job type's m2 per man-hour standard. Oven
    energy: the job's recorded cost, else its kWh x the shop's energy price, else unknown (the
    job's cost is then incomplete). Overhead: area x rate per m2, or a % of the direct cost
    when the site gives a % instead. Consumables: area x rate per m2. Revenue of a completed or
    invoiced job: the invoiced price, else the quoted one. Money in the site currency. -#}
with

jobs as (
    select * from {{ ref('stg_materials__jobs') }}
),

job_types as (
    select * from {{ ref('stg_site_config__materials_job_types') }}
),

settings as (
    select * from {{ ref('stg_site_config__materials_settings') }}
),

materials as (
    select * from {{ ref('stg_site_config__materials') }}
),

outflow_costs as (
    select * from {{ ref('fct_material_outflow_costs') }}
),

sites as (
    select * from {{ ref('stg_site_config__sites') }}
),

-- a material's base unit in kg (through its density for a volume unit; null for counts)
material_kg as (
    select
        site_id,
        material_id,
        {{ kg_per_unit('unit', 'density_g_per_ml') }} as kg_per_unit
    from materials
),

job_issues as (
    select
        outflow_costs.site_id,
        outflow_costs.job_id,
        outflow_costs.material_id = jobs.powder_material_id as is_powder,
        outflow_costs.qty * material_kg.kg_per_unit as qty_kg,
        outflow_costs.cost,
        outflow_costs.costing_status
    from outflow_costs
    inner join jobs
        on outflow_costs.site_id = jobs.site_id
        and outflow_costs.job_id = jobs.job_id
    left join material_kg
        on outflow_costs.site_id = material_kg.site_id
        and outflow_costs.material_id = material_kg.material_id
    where outflow_costs.kind = 'issue'
),

issued as (
    select
        site_id,
        job_id,
        sum(case when is_powder then qty_kg end) as powder_issued_kg,
        sum(case when is_powder then cost end) as powder_cost,
        -- the worst costing status of the powder issues: short > backdated > ok
        max(case
            when not is_powder then null
            when costing_status = 'short' then 3
            when costing_status = 'backdated' then 2
            else 1
        end) as powder_status_rank,
        coalesce(sum(case when not is_powder then cost end), 0) as other_materials_cost
    from job_issues
    group by site_id, job_id
),

joined as (
    select
        jobs.site_id,
        jobs.job_id,
        jobs.customer_id,
        jobs.job_type_id,
        jobs.status,
        jobs.parts,
        jobs.area_m2,
        jobs.colour,
        jobs.powder_material_id,
        coalesce(jobs.film_um, job_types.film_um, settings.default_film_um) as film_um,
        powder.specific_gravity,
        powder.transfer_efficiency,
        issued.powder_issued_kg,
        issued.powder_cost,
        case issued.powder_status_rank
            when 3 then 'short' when 2 then 'backdated' when 1 then 'ok'
        end as powder_costing_status,
        coalesce(issued.other_materials_cost, 0) as other_materials_cost,
        jobs.labour_hours,
        job_types.m2_per_man_hour,
        settings.labour_rate_per_hour,
        settings.overhead_rate_per_m2,
        settings.overhead_pct,
        settings.consumables_per_m2,
        jobs.oven_kwh,
        jobs.oven_cost as recorded_oven_cost,
        settings.oven_energy_price_per_kwh,
        jobs.quoted_price,
        jobs.invoiced_price,
        jobs.received_at,
        jobs.started_at,
        jobs.completed_at,
        jobs.invoiced_at,
        coalesce(jobs.completed_at, jobs.invoiced_at) as done_at,
        coalesce(sites.timezone, 'UTC') as timezone
    from jobs
    left join job_types
        on jobs.site_id = job_types.site_id
        and jobs.job_type_id = job_types.job_type_id
    left join settings
        on jobs.site_id = settings.site_id
    left join materials as powder
        on jobs.site_id = powder.site_id
        and jobs.powder_material_id = powder.material_id
    left join issued
        on jobs.site_id = issued.site_id
        and jobs.job_id = issued.job_id
    left join sites
        on jobs.site_id = sites.site_id
),

physics as (
    select
        *,
        1000.0 / (specific_gravity * film_um) * coalesce(transfer_efficiency, 1.0)
            as theoretical_coverage_m2_per_kg,
        area_m2 * film_um * specific_gravity / 1000.0 as film_powder_kg,
        {{ safe_divide('area_m2', 'm2_per_man_hour') }} as standard_labour_hours
    from joined
),

costed as (
    select
        *,
        cast(labour_hours * labour_rate_per_hour as decimal(18, 4)) as labour_cost,
        cast(standard_labour_hours * labour_rate_per_hour as decimal(18, 4))
            as standard_labour_cost,
        cast(area_m2 * coalesce(consumables_per_m2, 0) as decimal(18, 4)) as consumables_cost,
        -- the oven: as recorded, else its energy at the shop's price
        cast(
            coalesce(recorded_oven_cost, oven_kwh * oven_energy_price_per_kwh) as decimal(18, 4)
        ) as oven_cost_decimal,
        case
            when recorded_oven_cost is not null then 'recorded'
            when oven_kwh is not null and oven_energy_price_per_kwh is not null
                then 'energy_price'
        end as oven_cost_basis,
        cast(powder_cost as decimal(18, 4)) as powder_cost_decimal,
        cast(other_materials_cost as decimal(18, 4)) as other_materials_cost_decimal
    from physics
),

direct as (
    select
        *,
        coalesce(powder_cost_decimal, 0) + other_materials_cost_decimal
        + coalesce(labour_cost, 0) + coalesce(oven_cost_decimal, 0) + consumables_cost
            as direct_cost
    from costed
),

overheads as (
    select
        *,
        case
            when overhead_rate_per_m2 is not null
                then cast(area_m2 * overhead_rate_per_m2 as decimal(18, 4))
            when overhead_pct is not null
                then cast(direct_cost * cast(overhead_pct as decimal(18, 4)) / 100
                    as decimal(18, 4))
            else cast(0 as decimal(18, 4))
        end as overhead_cost,
        case
            when status in ('completed', 'invoiced')
                then cast(coalesce(invoiced_price, quoted_price) as decimal(18, 4))
        end as revenue,
        case
            when status not in ('completed', 'invoiced') then null
            when invoiced_price is not null then 'invoiced'
            when quoted_price is not null then 'quoted'
        end as revenue_basis,
        case
            when status in ('completed', 'invoiced')
                then {{ month_start(utc_to_local('done_at', 'timezone')) }}
        end as month
    from direct
),

final as (
    select
        site_id,
        job_id,
        customer_id,
        job_type_id,
        status,
        parts,
        area_m2,
        colour,
        powder_material_id,
        film_um,
        specific_gravity,
        transfer_efficiency,
        powder_issued_kg,
        {{ safe_divide('area_m2', 'powder_issued_kg') }} as actual_coverage_m2_per_kg,
        theoretical_coverage_m2_per_kg,
        {{ safe_divide('area_m2', 'theoretical_coverage_m2_per_kg') }} as theoretical_powder_kg,
        film_powder_kg,
        powder_issued_kg - film_powder_kg as powder_waste_kg,
        {{ safe_divide('(powder_issued_kg - film_powder_kg) * 100', 'powder_issued_kg') }}
            as powder_waste_pct,
        powder_cost_decimal as powder_cost,
        powder_costing_status,
        other_materials_cost_decimal as other_materials_cost,
        labour_hours,
        standard_labour_hours,
        {{ safe_divide('standard_labour_hours * 100', 'labour_hours') }} as labour_efficiency_pct,
        labour_cost,
        standard_labour_cost,
        oven_kwh,
        oven_cost_decimal as oven_cost,
        oven_cost_basis,
        oven_energy_price_per_kwh,
        overhead_cost,
        consumables_cost,
        direct_cost + overhead_cost as total_cost,
        {{ safe_divide('direct_cost + overhead_cost', 'area_m2') }} as cost_per_m2,
        powder_cost_decimal is not null
        and oven_cost_decimal is not null
        and labour_cost is not null
        and powder_costing_status != 'short' as is_cost_complete,
        quoted_price,
        invoiced_price,
        revenue,
        revenue_basis,
        revenue - (direct_cost + overhead_cost) as margin,
        {{ safe_divide('(revenue - (direct_cost + overhead_cost)) * 100', 'revenue') }}
            as margin_pct,
        received_at,
        completed_at,
        invoiced_at,
        month
    from overheads
)

select * from final
