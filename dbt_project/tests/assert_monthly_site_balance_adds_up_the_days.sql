-- a check on the model whose claim this is (it reads several models)
{{ config(meta={'dagster': {'ref': {'name': 'fct_site_balance_monthly'}}}) }}

-- A month's inputs, outputs and, when every day is complete, closure error are the sums of its
-- days'.
with

daily as (
    select
        site_id,
        month_start,
        sum(inputs_m3) as inputs_m3,
        sum(outputs_m3) as outputs_m3,
        sum(closure_error_m3) as closure_error_m3,
        {{ count_where('not is_complete') }} as n_incomplete
    from {{ ref('fct_site_balance_daily') }}
    group by site_id, month_start
),

monthly as (
    select * from {{ ref('fct_site_balance_monthly') }}
)

select
    monthly.site_id,
    monthly.month_start,
    monthly.inputs_m3,
    daily.inputs_m3 as daily_inputs_m3,
    monthly.closure_error_m3,
    daily.closure_error_m3 as daily_closure_error_m3
from monthly
inner join daily
    on monthly.site_id = daily.site_id
    and monthly.month_start = daily.month_start
where abs(monthly.inputs_m3 - daily.inputs_m3) > 1e-6 * greatest(1, daily.inputs_m3)
    or abs(monthly.outputs_m3 - daily.outputs_m3) > 1e-6 * greatest(1, daily.outputs_m3)
    or (
        daily.n_incomplete = 0
        and abs(monthly.closure_error_m3 - daily.closure_error_m3)
            > 1e-6 * greatest(1, daily.inputs_m3)
    )
