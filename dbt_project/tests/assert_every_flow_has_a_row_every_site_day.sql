-- a check on the model whose claim this is (it reads several models)
{{ config(meta={'dagster': {'ref': {'name': 'int_flow_volumes_daily'}}}) }}

-- int_flow_volumes_daily has every flow on every day of its site, so a flow that sent nothing
-- shows as missing instead of vanishing from the balance.
with

site_days as (
    select distinct site_id, day
    from {{ ref('int_flow_volumes_daily') }}
),

flows as (
    select site_id, flow_id from {{ ref('int_flows_classified') }}
),

expected as (
    select site_days.site_id, site_days.day, flows.flow_id
    from site_days
    inner join flows
        on site_days.site_id = flows.site_id
)

select expected.*
from expected
left join {{ ref('int_flow_volumes_daily') }} as volumes
    on expected.site_id = volumes.site_id
    and expected.flow_id = volumes.flow_id
    and expected.day = volumes.day
where volumes.flow_id is null
