{{ config(**partitioned_by_day_config('day')) }}

{#- Every flow on every site-local day: its volume, how it was obtained and from what. A flow with
    an estimation rule takes the rule; any other flow takes its meters. A flow with neither, or
    whose meters sent nothing that day, has a null volume and `is_missing` set.
    estimated_volume_m3 is the part of a metered volume that VEE estimates stood in for (invalid
    or missing rate readings); the accuracy statement counts it as estimated. -#}
with

flows as (
    select * from {{ ref('int_flows_classified') }}
    where {{ in_site_window('site_id') }}
),

days as (
    select * from {{ ref('int_site_days') }}
),

measured as (
    select * from {{ ref('int_flow_measured_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

estimated as (
    select * from {{ ref('int_estimated_flows_daily') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

flow_days as (
    select
        flows.site_id,
        flows.flow_id,
        days.day,
        days.month_start,
        days.is_closed as is_day_closed,
        flows.estimation_method,
        flows.accounting_method
    from flows
    inner join days
        on flows.site_id = days.site_id
),

volumes as (
    select
        flow_days.site_id,
        flow_days.flow_id,
        flow_days.day,
        flow_days.month_start,
        flow_days.is_day_closed,
        case
            when flow_days.estimation_method is not null then estimated.volume_m3
            else measured.volume_m3
        end as volume_m3,
        flow_days.accounting_method as method,
        case
            when flow_days.estimation_method is not null
                then 'rule:' || flow_days.estimation_method
            when measured.measurand is not null then 'meter:' || measured.measurand
            else 'none'
        end as volume_source,
        case when flow_days.estimation_method is null then measured.meter_ids end as meter_ids,
        case
            when flow_days.estimation_method is null then coalesce(measured.estimated_volume_m3, 0)
            else 0
        end as estimated_volume_m3,
        case
            when flow_days.estimation_method is null then coalesce(measured.n_readings, 0)
            else 0
        end as n_readings,
        case
            when flow_days.estimation_method is null then coalesce(measured.n_rollovers, 0)
            else 0
        end as n_rollovers,
        case
            when flow_days.estimation_method is null then coalesce(measured.n_resets, 0)
            else 0
        end as n_resets,
        estimated.driver_value as estimation_driver_value,
        estimated.driver_unit as estimation_driver_unit,
        estimated.driver_ref as estimation_driver_ref
    from flow_days
    left join measured
        on flow_days.site_id = measured.site_id
        and flow_days.flow_id = measured.flow_id
        and flow_days.day = measured.day
    left join estimated
        on flow_days.site_id = estimated.site_id
        and flow_days.flow_id = estimated.flow_id
        and flow_days.day = estimated.day
),

final as (
    select
        volumes.*,
        volume_m3 is null as is_missing
    from volumes
)

select * from final
