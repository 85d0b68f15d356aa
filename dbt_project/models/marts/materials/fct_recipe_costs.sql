{#- What one run of every recipe version costs, month by month: each input's base quantity at
    the material's last receipt cost on or before the month's last day (the historical price),
    and at its latest receipt cost (the current price). Months run from the version's first
    month (or the site's first receipt) to the site's as-of month; a recipe whose inputs are not
    all priced yet has no cost that month. -#}
with

recipes as (
    select * from {{ ref('stg_site_config__materials_recipes') }}
),

recipe_inputs as (
    select * from {{ ref('stg_site_config__materials_recipe_inputs') }}
),

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

receipts as (
    select
        site_id,
        material_id,
        ledger_seq,
        local_day,
        unit_cost
    from ledger
    where entry_kind = 'receipt'
),

recipe_months as (
    select
        recipes.site_id,
        recipes.recipe_id,
        recipes.version,
        recipes.product_id,
        recipes.valid_from,
        recipes.yield_qty,
        recipes.yield_unit,
        {{ unnest_days(
            month_start('greatest(recipes.valid_from, sites.first_day)'),
            month_start('greatest(recipes.valid_from, sites.as_of_day)')
        ) }} as day
    from recipes
    inner join sites
        on recipes.site_id = sites.site_id
),

months as (
    select
        site_id,
        recipe_id,
        version,
        product_id,
        valid_from,
        yield_qty,
        yield_unit,
        day as month,
        cast({{ dbt.last_day('day', 'month') }} as date) as month_end
    from recipe_months
    where day = {{ month_start('day') }}
),

month_prices as (
    select
        months.site_id,
        months.recipe_id,
        months.version,
        months.month,
        recipe_inputs.material_id,
        recipe_inputs.qty_base,
        {{ value_at_last('receipts.unit_cost', 'receipts.ledger_seq') }} as month_unit_cost
    from months
    inner join recipe_inputs
        on months.site_id = recipe_inputs.site_id
        and months.recipe_id = recipe_inputs.recipe_id
        and months.version = recipe_inputs.version
    left join receipts
        on recipe_inputs.site_id = receipts.site_id
        and recipe_inputs.material_id = receipts.material_id
        and months.month_end >= receipts.local_day
    group by
        months.site_id,
        months.recipe_id,
        months.version,
        months.month,
        recipe_inputs.material_id,
        recipe_inputs.qty_base
),

current_prices as (
    select
        site_id,
        material_id,
        {{ value_at_last('unit_cost', 'ledger_seq') }} as current_unit_cost
    from receipts
    group by site_id, material_id
),

costed as (
    select
        month_prices.site_id,
        month_prices.recipe_id,
        month_prices.version,
        month_prices.month,
        count(*) as inputs,
        count(month_prices.month_unit_cost) as inputs_priced,
        {{ sum_all_known(
            'cast(month_prices.qty_base as decimal(18, 6)) * month_prices.month_unit_cost'
        ) }} as cost_at_month_price,
        {{ sum_all_known(
            'cast(month_prices.qty_base as decimal(18, 6)) * current_prices.current_unit_cost'
        ) }} as cost_current
    from month_prices
    left join current_prices
        on month_prices.site_id = current_prices.site_id
        and month_prices.material_id = current_prices.material_id
    group by
        month_prices.site_id,
        month_prices.recipe_id,
        month_prices.version,
        month_prices.month
),

in_force as (
    select
        months.site_id,
        months.recipe_id,
        months.month,
        max(months.version) filter (where months.valid_from <= months.month_end)
            as version_in_force
    from months
    group by months.site_id, months.recipe_id, months.month
),

final as (
    select
        months.site_id,
        months.recipe_id,
        months.version,
        months.month,
        months.product_id,
        months.valid_from,
        months.version = in_force.version_in_force as is_version_in_force,
        months.yield_qty,
        months.yield_unit,
        coalesce(costed.inputs, 0) as inputs,
        coalesce(costed.inputs_priced, 0) as inputs_priced,
        costed.cost_at_month_price,
        costed.cost_current,
        {{ safe_divide('costed.cost_at_month_price', 'months.yield_qty') }} as cost_per_unit,
        {{ safe_divide('costed.cost_current', 'months.yield_qty') }} as cost_per_unit_current
    from months
    left join costed
        on months.site_id = costed.site_id
        and months.recipe_id = costed.recipe_id
        and months.version = costed.version
        and months.month = costed.month
    left join in_force
        on months.site_id = in_force.site_id
        and months.recipe_id = in_force.recipe_id
        and months.month = in_force.month
)

select * from final
