{#- Every production batch with its material cost (fct_batch_costs), yield and unit cost, before
    any sale: what fct_lot_costs builds the lot costs on, and fct_batches adds the sales of the
    output lot to (so that a sale costs the same in every mart: int_material_sale_costs). Yield
    % = good output / planned output x 100, where good output = actual output - samples and
    retains (the planned output is the recipe scaled to the batch). Unit cost = actual cost /
    good output. -#}
with

batches as (
    select * from {{ ref('stg_materials__batches') }}
),

batch_costs as (
    select * from {{ ref('fct_batch_costs') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

costs as (
    select
        site_id,
        batch_id,
        {{ sum_all_known('planned_cost') }} as planned_cost,
        {{ sum_all_known('actual_cost') }} as actual_cost,
        {{ sum_all_known('price_variance') }} as price_variance,
        {{ sum_all_known('usage_variance') }} as usage_variance,
        sum(unallocated_qty) as unallocated_qty
    from batch_costs
    group by site_id, batch_id
),

joined as (
    select
        batches.site_id,
        batches.batch_id,
        batches.product_id,
        batches.recipe_id,
        batches.recipe_version,
        batches.output_lot_id,
        batches.output_unit,
        batches.started_at,
        batches.finished_at,
        batches.equipment,
        batches.containers,
        cast(batches.planned_qty as decimal(18, 6)) as planned_qty,
        cast(batches.actual_qty as decimal(18, 6)) as actual_qty,
        cast(batches.samples_qty as decimal(18, 6)) as samples_qty,
        cast(batches.actual_qty - batches.samples_qty as decimal(18, 6)) as good_qty,
        costs.planned_cost,
        costs.actual_cost,
        costs.price_variance,
        costs.usage_variance,
        coalesce(costs.unallocated_qty, 0) as unallocated_qty,
        sites.yield_alert_pct,
        sites.timezone
    from batches
    left join costs
        on batches.site_id = costs.site_id
        and batches.batch_id = costs.batch_id
    left join sites
        on batches.site_id = sites.site_id
),

measured as (
    select
        joined.*,
        joined.actual_cost - joined.planned_cost as cost_variance,
        100 * cast(joined.good_qty as double precision)
            / nullif(cast(joined.planned_qty as double precision), 0)
            as yield_pct,
        {{ safe_divide('joined.actual_cost', 'joined.good_qty') }} as unit_cost
    from joined
),

final as (
    select
        site_id,
        batch_id,
        product_id,
        recipe_id,
        recipe_version,
        output_lot_id,
        output_unit,
        started_at,
        finished_at,
        {{ month_start(utc_to_local('finished_at', "coalesce(timezone, 'UTC')")) }} as month,
        equipment,
        containers,
        planned_qty,
        actual_qty,
        samples_qty,
        good_qty,
        yield_pct,
        coalesce(yield_pct < yield_alert_pct, false) as is_yield_below_alert,
        yield_alert_pct,
        planned_cost,
        actual_cost,
        cost_variance,
        price_variance,
        usage_variance,
        unallocated_qty,
        unit_cost
    from measured
)

select * from final
