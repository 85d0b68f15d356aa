-- a check on the model whose claim this is (it reads several models)
{{ config(meta={'dagster': {'ref': {'name': 'fct_node_balance_daily'}}}) }}

-- A node's balance error is exactly what its flows and storage leave unexplained, daily and
-- monthly (1e-6 m3 allows for floating-point rounding).
with

daily as (
    select site_id, node_id, day as period_start, 'day' as grain,
        inflow_m3, outflow_m3, storage_change_m3, balance_error_m3
    from {{ ref('fct_node_balance_daily') }}
),

monthly as (
    select site_id, node_id, month_start as period_start, 'month' as grain,
        inflow_m3, outflow_m3, storage_change_m3, balance_error_m3
    from {{ ref('fct_node_balance_monthly') }}
),

both_grains as (
    select * from daily
    union all
    select * from monthly
)

select *
from both_grains
where abs(balance_error_m3 - (inflow_m3 - outflow_m3 - storage_change_m3)) > 1e-6
