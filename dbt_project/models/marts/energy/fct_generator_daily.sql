{{ config(**partitioned_by_day_config('day')) }}

{#- Each generator's day: output, running and low-load hours, litres burned (its fuel meter, or
    the draw of a tank that feeds it alone) against the HOMER fuel curve at the same load, the
    30-day rolling ratio of the two (over running days with both), fuel cost at the fuel price
    in force and emissions at the site's diesel factor. A window run reads the 29 days before
    its window for the rolling figures (var energy_history_days), and rewrites the 29 days after
    it, whose rolling figures include the window's days (a late file changes them). -#}
{%- set history_days = var('energy_history_days') | int %}
with

generators as (
    select * from {{ ref('stg_site_config__energy_generators') }}
),

generator_days as (
    select * from {{ ref('int_energy_generator_daily') }}
    where {{ in_day_window('day', before=history_days - 1, after=history_days - 1) }}
        and {{ in_site_window('site_id') }}
),

tank_days as (
    select * from {{ ref('int_energy_tank_daily') }}
    where {{ in_day_window('day', before=history_days - 1, after=history_days - 1) }}
        and {{ in_site_window('site_id') }}
),

prices as (
    select * from {{ ref('stg_site_config__energy_fuel_prices') }}
),

factors as (
    select * from {{ ref('int_energy_emission_factors') }}
),

-- a tank's draw is a generator's fuel only when the tank feeds no other generator
sole_feeds as (
    select site_id, tank_id, min(generator_id) as generator_id
    from generators
    where tank_id is not null
    group by site_id, tank_id
    having count(*) = 1
),

fuelled as (
    select
        generator_days.*,
        case
            when generators.fuel_meter_id is not null then 'meter'
            when sole_feeds.tank_id is not null then 'tank'
        end as fuel_basis,
        case
            when generators.fuel_meter_id is not null then generator_days.metered_fuel_l
            when sole_feeds.tank_id is not null then tank_days.drawn_l
        end as fuel_l,
        generators.low_load_alert_hours,
        generators.efficiency_alert_ratio
    from generator_days
    inner join generators
        on generator_days.site_id = generators.site_id
        and generator_days.generator_id = generators.generator_id
    left join sole_feeds
        on generators.site_id = sole_feeds.site_id
        and generators.generator_id = sole_feeds.generator_id
    left join tank_days
        on sole_feeds.site_id = tank_days.site_id
        and sole_feeds.tank_id = tank_days.tank_id
        and generator_days.day = tank_days.day
),

-- days that count for the rolling ratio: running, with litres and a fuel-curve figure
comparable as (
    select
        *,
        running_hours > 0 and fuel_l is not null and expected_fuel_l > 0 as is_comparable,
        {{ day_number('day') }} as day_number
    from fuelled
),

rolling as (
    select
        *,
        sum(case when is_comparable then fuel_l end) over last_days as fuel_30d_l,
        sum(case when is_comparable then expected_fuel_l end) over last_days
            as expected_fuel_30d_l,
        sum(case when is_comparable then 1 else 0 end) over last_days as n_days_30d
    from comparable
    window last_days as (
        partition by site_id, generator_id
        order by day_number
        range between {{ history_days - 1 }} preceding and current row
    )
),

priced as (
    select
        rolling.site_id,
        rolling.generator_id,
        rolling.day,
        prices.price_per_l,
        row_number() over (
            partition by rolling.site_id, rolling.generator_id, rolling.day
            order by prices.valid_from desc
        ) as price_rank
    from rolling
    inner join prices
        on rolling.site_id = prices.site_id
        and rolling.day >= prices.valid_from
),

final as (
    select
        rolling.site_id,
        rolling.generator_id,
        rolling.day,
        rolling.energy_kwh,
        rolling.running_hours,
        rolling.mean_load_fraction,
        rolling.low_load_hours,
        rolling.max_low_load_run_hours,
        rolling.fuel_l,
        rolling.fuel_basis,
        rolling.expected_fuel_l,
        {{ safe_divide('rolling.fuel_l', 'rolling.energy_kwh') }} as sfc_l_per_kwh,
        {{ safe_divide('rolling.expected_fuel_l', 'rolling.energy_kwh') }}
            as expected_sfc_l_per_kwh,
        {{ safe_divide('rolling.fuel_l', 'rolling.expected_fuel_l') }} as efficiency_ratio,
        rolling.fuel_30d_l,
        rolling.expected_fuel_30d_l,
        {{ safe_divide('rolling.fuel_30d_l', 'rolling.expected_fuel_30d_l') }}
            as efficiency_ratio_30d,
        cast(rolling.n_days_30d as integer) as n_days_30d,
        rolling.low_load_alert_hours,
        rolling.efficiency_alert_ratio,
        rolling.fuel_l * priced.price_per_l as fuel_cost,
        {{ safe_divide('rolling.fuel_l * priced.price_per_l', 'rolling.energy_kwh') }}
            as cost_per_kwh,
        rolling.fuel_l * factors.diesel_kg_per_l as co2e_kg
    from rolling
    left join priced
        on rolling.site_id = priced.site_id
        and rolling.generator_id = priced.generator_id
        and rolling.day = priced.day
        and priced.price_rank = 1
    left join factors
        on rolling.site_id = factors.site_id
    where {{ in_day_window('rolling.day', after=history_days - 1) }}
)

select * from final
