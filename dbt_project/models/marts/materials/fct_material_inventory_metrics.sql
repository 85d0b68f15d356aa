{#- Inventory figures of every material at the site's as-of day, over the trailing year (the
    365 days ending on it, or the material's days since its first movement when fewer):

    - turnover = COGS / average inventory value, annualised (x 365 / days observed);
      days on hand = 365 / turnover;
    - demand = daily issued quantity (zero days included): mean d and sample variance sd_d^2;
      lead time L and its standard deviation sd_L (days) from the material (default 7 and 0);
    - safety stock = z x sqrt(L sd_d^2 + d^2 sd_L^2), z from the service level (material, else
      site); reorder point = d x L + safety stock unless the material fixes one;
    - EOQ = sqrt(2 D S / H): D = d x 365, S = the site's order cost, H = holding cost rate x the
      last receipt's unit cost;
    - ageing and expiry from the lots still holding stock (fct_material_lot_balances). -#}
with

daily as (
    select * from {{ ref('fct_material_inventory_daily') }}
),

lots as (
    select * from {{ ref('fct_material_lot_balances') }}
),

ledger as (
    select * from {{ ref('int_material_ledger') }}
),

materials as (
    select * from {{ ref('stg_site_config__materials') }}
),

sites as (
    select * from {{ ref('int_material_sites') }}
),

trailing_year as (
    select
        daily.site_id,
        daily.material_id,
        count(*) as days_observed,
        sum(daily.cogs) as cogs_365,
        avg(daily.on_hand_value) as avg_inventory_value,
        sum(daily.issued_qty) as issued_qty_365,
        avg(cast(daily.issued_qty as double precision)) as mean_daily_demand,
        coalesce(var_samp(cast(daily.issued_qty as double precision)), 0) as demand_variance,
        sum(daily.waste_qty) as waste_qty,
        sum(daily.waste_value) as waste_value
    from daily
    inner join sites
        on daily.site_id = sites.site_id
    where daily.day > {{ add_days('sites.as_of_day', -365) }}
        and daily.day <= sites.as_of_day
    group by daily.site_id, daily.material_id
),

on_hand as (
    select
        daily.site_id,
        daily.material_id,
        daily.on_hand_qty,
        daily.on_hand_value
    from daily
    inner join sites
        on daily.site_id = sites.site_id
        and daily.day = sites.as_of_day
),

stock_lots as (
    select
        site_id,
        material_id,
        sum(case when is_expired then remaining_qty else 0 end) as expired_qty,
        sum(case when is_expired then remaining_value else 0 end) as expired_value,
        sum(case when ageing_bucket = '0_30' then remaining_qty else 0 end) as age_0_30_qty,
        sum(case when ageing_bucket = '0_30' then remaining_value else 0 end) as age_0_30_value,
        sum(case when ageing_bucket = '31_60' then remaining_qty else 0 end) as age_31_60_qty,
        sum(case when ageing_bucket = '31_60' then remaining_value else 0 end)
            as age_31_60_value,
        sum(case when ageing_bucket = '61_90' then remaining_qty else 0 end) as age_61_90_qty,
        sum(case when ageing_bucket = '61_90' then remaining_value else 0 end)
            as age_61_90_value,
        sum(case when ageing_bucket = 'over_90' then remaining_qty else 0 end)
            as age_over_90_qty,
        sum(case when ageing_bucket = 'over_90' then remaining_value else 0 end)
            as age_over_90_value
    from lots
    group by site_id, material_id
),

last_prices as (
    select
        site_id,
        material_id,
        {{ value_at_last('unit_cost', 'ledger_seq') }} as last_unit_cost
    from ledger
    where entry_kind = 'receipt'
    group by site_id, material_id
),

inputs as (
    select
        trailing_year.*,
        on_hand.on_hand_qty,
        on_hand.on_hand_value,
        coalesce(materials.lead_time_days, 7) as lead_time_days,
        coalesce(materials.lead_time_sd_days, 0) as lead_time_sd_days,
        coalesce(materials.service_level, sites.service_level) as service_level,
        materials.reorder_point as fixed_reorder_point,
        last_prices.last_unit_cost,
        sites.order_cost,
        sites.holding_cost_rate,
        sites.as_of_day
    from trailing_year
    inner join sites
        on trailing_year.site_id = sites.site_id
    left join on_hand
        on trailing_year.site_id = on_hand.site_id
        and trailing_year.material_id = on_hand.material_id
    left join materials
        on trailing_year.site_id = materials.site_id
        and trailing_year.material_id = materials.material_id
    left join last_prices
        on trailing_year.site_id = last_prices.site_id
        and trailing_year.material_id = last_prices.material_id
),

computed as (
    select
        inputs.*,
        {{ service_level_z('service_level') }} as service_level_z,
        {{ service_level_z('service_level') }} * sqrt(
            lead_time_days * demand_variance
            + mean_daily_demand * mean_daily_demand * lead_time_sd_days * lead_time_sd_days
        ) as safety_stock,
        {{ safe_divide(
            'cast(cogs_365 as double precision) * 365 / days_observed',
            'cast(avg_inventory_value as double precision)'
        ) }} as turnover,
        sqrt({{ safe_divide(
            '2 * mean_daily_demand * 365 * order_cost',
            'holding_cost_rate * cast(last_unit_cost as double precision)'
        ) }}) as eoq
    from inputs
),

final as (
    select
        computed.site_id,
        computed.material_id,
        computed.as_of_day,
        computed.days_observed,
        computed.on_hand_qty,
        computed.on_hand_value,
        computed.cogs_365,
        computed.avg_inventory_value,
        case when computed.turnover > 0 then computed.turnover end as turnover,
        case when computed.turnover > 0 then 365 / computed.turnover end as days_on_hand,
        computed.issued_qty_365,
        computed.waste_qty,
        computed.waste_value,
        coalesce(stock_lots.expired_qty, 0) as expired_qty,
        coalesce(stock_lots.expired_value, 0) as expired_value,
        coalesce(stock_lots.age_0_30_qty, 0) as age_0_30_qty,
        coalesce(stock_lots.age_0_30_value, 0) as age_0_30_value,
        coalesce(stock_lots.age_31_60_qty, 0) as age_31_60_qty,
        coalesce(stock_lots.age_31_60_value, 0) as age_31_60_value,
        coalesce(stock_lots.age_61_90_qty, 0) as age_61_90_qty,
        coalesce(stock_lots.age_61_90_value, 0) as age_61_90_value,
        coalesce(stock_lots.age_over_90_qty, 0) as age_over_90_qty,
        coalesce(stock_lots.age_over_90_value, 0) as age_over_90_value,
        computed.mean_daily_demand,
        sqrt(computed.demand_variance) as demand_sd,
        computed.lead_time_days,
        computed.lead_time_sd_days,
        computed.service_level,
        computed.service_level_z,
        computed.safety_stock,
        coalesce(
            computed.fixed_reorder_point,
            computed.mean_daily_demand * computed.lead_time_days + computed.safety_stock
        ) as reorder_point,
        computed.fixed_reorder_point is not null as is_reorder_point_fixed,
        computed.last_unit_cost,
        computed.eoq,
        coalesce(
            computed.on_hand_qty < coalesce(
                computed.fixed_reorder_point,
                computed.mean_daily_demand * computed.lead_time_days + computed.safety_stock
            ),
            false
        ) as below_reorder_point
    from computed
    left join stock_lots
        on computed.site_id = stock_lots.site_id
        and computed.material_id = stock_lots.material_id
)

select * from final
