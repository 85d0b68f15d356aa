{{ config(**partitioned_by_day_config('day')) }}

{#- The metered volume of each flow and site-local day. Per day the best kind of meter with data
    wins: totaliser, then interval-volume meter, then flow-rate integration. Within that kind,
    meters of one redundancy group measure the same water and are averaged; meters outside a
    group (or in different groups) measure parallel lines and are added. estimated_volume_m3 is
    the part that came from VEE estimates of invalid or missing rate readings, averaged and
    added the same way (0 for totalisers and volume meters: a register difference spans a gap). -#}
with

meters as (
    select * from {{ ref('stg_site_config__meters') }}
    where flow_id is not null
),

totaliser_days as (
    select
        site_id,
        meter_id,
        delta_day as day,
        count(*) as n_readings,
        sum(delta_m3) as volume_m3,
        {{ count_where("delta_kind = 'rollover'") }} as n_rollovers,
        {{ count_where("delta_kind = 'reset'") }} as n_resets
    from {{ ref('int_totaliser_deltas') }}
    where {{ in_day_window('delta_day') }}
        and {{ in_site_window('site_id') }}
    group by site_id, meter_id, delta_day
),

flow_rate_days as (
    select
        site_id,
        meter_id,
        day,
        n_readings,
        volume_m3,
        estimated_volume_m3
    from {{ ref('int_flow_rate_volumes') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

volume_days as (
    select
        site_id,
        meter_id,
        day,
        n_readings,
        total_value as volume_m3
    from {{ ref('int_meter_totals_daily') }}
    where measurand = 'volume'
        and {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

meter_days as (
    select
        site_id, meter_id, day, n_readings, volume_m3, 0.0 as estimated_volume_m3, n_rollovers,
        n_resets, 1 as priority
    from totaliser_days
    union all
    select site_id, meter_id, day, n_readings, volume_m3, 0.0, 0, 0, 2 as priority
    from volume_days
    union all
    select site_id, meter_id, day, n_readings, volume_m3, estimated_volume_m3, 0, 0, 3 as priority
    from flow_rate_days
),

with_flow as (
    select
        meter_days.*,
        meters.flow_id,
        meters.measurand,
        coalesce(meters.redundancy_group, meters.meter_id) as measuring_point,
        min(meter_days.priority) over (
            partition by meter_days.site_id, meters.flow_id, meter_days.day
        ) as best_priority
    from meter_days
    inner join meters
        on meter_days.site_id = meters.site_id
        and meter_days.meter_id = meters.meter_id
),

measuring_points as (
    select
        site_id,
        flow_id,
        day,
        measuring_point,
        min(measurand) as measurand,
        avg(volume_m3) as volume_m3,
        -- over the meters the volume averages (a meter without a usable value has no part in it)
        avg(case when volume_m3 is not null then estimated_volume_m3 end) as estimated_volume_m3,
        cast(count(*) as bigint) as n_meters,
        cast(sum(n_readings) as bigint) as n_readings,
        cast(sum(n_rollovers) as bigint) as n_rollovers,
        cast(sum(n_resets) as bigint) as n_resets,
        {{ dbt.listagg('meter_id', "','", 'order by meter_id') }} as meter_ids
    from with_flow
    where priority = best_priority
    group by site_id, flow_id, day, measuring_point
),

final as (
    select
        site_id,
        flow_id,
        day,
        min(measurand) as measurand,
        sum(volume_m3) as volume_m3,
        sum(estimated_volume_m3) as estimated_volume_m3,
        {{ dbt.listagg('meter_ids', "','", 'order by meter_ids') }} as meter_ids,
        cast(sum(n_meters) as bigint) as n_meters,
        cast(sum(n_readings) as bigint) as n_readings,
        cast(sum(n_rollovers) as bigint) as n_rollovers,
        cast(sum(n_resets) as bigint) as n_resets
    from measuring_points
    group by site_id, flow_id, day
)

select * from final
