{{ config(**partitioned_by_day_config('day')) }}

{#- Fuel balance of each tank per site-local day: opening = the day's first level reading
    (tank_contents, VEE-validated), closing = the next day's first reading (the last of the day
    when the next day has none yet; none when the day has a single reading), delivered = the delivery meter's litres of the day, drawn =
    opening + delivered - closing; metered use = the litres the fuel meters of the generators it
    feeds measured (null when none has a fuel meter); unaccounted = drawn - metered use. -#}
with

tanks as (
    select * from {{ ref('stg_site_config__energy_tanks') }}
),

generators as (
    select * from {{ ref('stg_site_config__energy_generators') }}
),

levels as (
    select site_id, meter_id, ts_utc, reading_day, validated_value
    from {{ ref('int_readings_validated') }}
    where measurand = 'tank_contents'
        and validated_value is not null
        and {{ in_day_window('reading_day', after=1) }}
        and {{ in_site_window('site_id') }}
),

fuel as (
    select site_id, meter_id, day, amount
    from {{ ref('int_energy_fuel_daily') }}
    where measurand = 'fuel'
        and {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

level_days as (
    select
        site_id,
        meter_id,
        reading_day as day,
        {{ value_at_min('validated_value', 'ts_utc') }} as first_l,
        {{ value_at_max('validated_value', 'ts_utc') }} as last_l,
        count(*) as n_readings
    from levels
    group by site_id, meter_id, reading_day
),

balances as (
    select
        tanks.site_id,
        tanks.tank_id,
        today.day,
        today.first_l as opening_l,
        case
            when tomorrow.first_l is not null then tomorrow.first_l
            when today.n_readings > 1 then today.last_l
        end as closing_l,
        coalesce(deliveries.amount, 0) as delivered_l
    from tanks
    inner join level_days as today
        on tanks.site_id = today.site_id
        and tanks.level_meter_id = today.meter_id
    left join level_days as tomorrow
        on today.site_id = tomorrow.site_id
        and today.meter_id = tomorrow.meter_id
        and tomorrow.day = {{ add_days('today.day', 1) }}
    left join fuel as deliveries
        on tanks.site_id = deliveries.site_id
        and tanks.delivery_meter_id = deliveries.meter_id
        and today.day = deliveries.day
    where {{ in_day_window('today.day') }}
),

metered as (
    select
        generators.site_id,
        generators.tank_id,
        fuel.day,
        sum(fuel.amount) as metered_use_l
    from generators
    inner join fuel
        on generators.site_id = fuel.site_id
        and generators.fuel_meter_id = fuel.meter_id
    where generators.tank_id is not null
    group by generators.site_id, generators.tank_id, fuel.day
),

metered_tanks as (
    select distinct site_id, tank_id
    from generators
    where tank_id is not null and fuel_meter_id is not null
),

accounted as (
    select
        balances.site_id,
        balances.tank_id,
        balances.day,
        balances.opening_l,
        balances.closing_l,
        balances.delivered_l,
        balances.opening_l + balances.delivered_l - balances.closing_l as drawn_l,
        case
            when metered_tanks.tank_id is not null then coalesce(metered.metered_use_l, 0)
        end as metered_use_l
    from balances
    left join metered_tanks
        on balances.site_id = metered_tanks.site_id
        and balances.tank_id = metered_tanks.tank_id
    left join metered
        on balances.site_id = metered.site_id
        and balances.tank_id = metered.tank_id
        and balances.day = metered.day
),

final as (
    select
        *,
        drawn_l - metered_use_l as unaccounted_l
    from accounted
)

select * from final
