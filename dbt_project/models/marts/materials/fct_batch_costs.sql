{#- Planned against actual material cost of every production batch, per material. Planned
    quantity SQ = the recipe version's input x scale (planned output / recipe yield); standard
    price SP = the material's last receipt cost at or before the batch started; actual quantity
    AQ and actual cost = the FIFO-costed issues booked to the batch (actual price AP = cost / AQ).
    Price variance = (SP - AP) x AQ = SP x AQ - actual cost and usage variance = (SQ - AQ) x SP,
    both positive when favourable; cost variance = actual cost - planned cost (SQ x SP),
    positive when over plan: cost variance = -(price variance + usage variance). -#}
with

batches as (
    select * from {{ ref('stg_materials__batches') }}
),

recipes as (
    select * from {{ ref('stg_site_config__materials_recipes') }}
),

recipe_inputs as (
    select * from {{ ref('stg_site_config__materials_recipe_inputs') }}
),

outflow_costs as (
    select * from {{ ref('fct_material_outflow_costs') }}
),

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

planned as (
    select
        batches.site_id,
        batches.batch_id,
        recipe_inputs.material_id,
        batches.planned_qty / nullif(recipes.yield_qty, 0) as scale,
        cast(
            recipe_inputs.qty_base * batches.planned_qty / nullif(recipes.yield_qty, 0)
            as decimal(18, 6)
        ) as planned_qty
    from batches
    inner join recipes
        on batches.site_id = recipes.site_id
        and batches.recipe_id = recipes.recipe_id
        and batches.recipe_version = recipes.version
    inner join recipe_inputs
        on recipes.site_id = recipe_inputs.site_id
        and recipes.recipe_id = recipe_inputs.recipe_id
        and recipes.version = recipe_inputs.version
),

actual as (
    select
        site_id,
        batch_id,
        material_id,
        sum(qty) as actual_qty,
        sum(unallocated_qty) as unallocated_qty,
        {{ sum_all_known('cost') }} as actual_cost,
        count(*) as issues
    from outflow_costs
    where kind = 'issue'
        and batch_id is not null
    group by site_id, batch_id, material_id
),

lines as (
    select
        coalesce(planned.site_id, actual.site_id) as site_id,
        coalesce(planned.batch_id, actual.batch_id) as batch_id,
        coalesce(planned.material_id, actual.material_id) as material_id,
        planned.material_id is not null as is_in_recipe,
        planned.scale,
        coalesce(planned.planned_qty, 0) as planned_qty,
        coalesce(actual.actual_qty, 0) as actual_qty,
        coalesce(actual.unallocated_qty, 0) as unallocated_qty,
        case when actual.batch_id is null then 0 else actual.actual_cost end as actual_cost,
        coalesce(actual.issues, 0) as issues
    from planned
    full outer join actual
        on planned.site_id = actual.site_id
        and planned.batch_id = actual.batch_id
        and planned.material_id = actual.material_id
),

standard_prices as (
    select
        lines.site_id,
        lines.batch_id,
        lines.material_id,
        {{ value_at_last('ledger.unit_cost', 'ledger.ledger_seq') }} as standard_price
    from lines
    inner join batches
        on lines.site_id = batches.site_id
        and lines.batch_id = batches.batch_id
    inner join ledger
        on lines.site_id = ledger.site_id
        and lines.material_id = ledger.material_id
        and ledger.entry_kind = 'receipt'
        and batches.started_at >= ledger.entry_at
    group by lines.site_id, lines.batch_id, lines.material_id
),

priced as (
    select
        lines.*,
        batches.product_id,
        batches.recipe_id,
        batches.recipe_version,
        batches.started_at,
        standard_prices.standard_price,
        -- nothing planned costs nothing, priced or not
        case
            when lines.planned_qty = 0 then 0
            else lines.planned_qty * standard_prices.standard_price
        end as planned_cost
    from lines
    inner join batches
        on lines.site_id = batches.site_id
        and lines.batch_id = batches.batch_id
    left join standard_prices
        on lines.site_id = standard_prices.site_id
        and lines.batch_id = standard_prices.batch_id
        and lines.material_id = standard_prices.material_id
),

final as (
    select
        site_id,
        batch_id,
        material_id,
        product_id,
        recipe_id,
        recipe_version,
        started_at,
        is_in_recipe,
        scale,
        planned_qty,
        actual_qty,
        unallocated_qty,
        issues,
        standard_price,
        {{ safe_divide('actual_cost', 'actual_qty - unallocated_qty') }} as actual_unit_cost,
        planned_cost,
        actual_cost,
        standard_price * actual_qty - actual_cost as price_variance,
        (planned_qty - actual_qty) * standard_price as usage_variance,
        actual_cost - planned_cost as cost_variance
    from priced
)

select * from final
