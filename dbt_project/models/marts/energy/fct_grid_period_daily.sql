{{ config(**partitioned_by_day_config('day')) }}

{#- Grid import per connection, site-local day and tariff period, with its rate and cost. -#}
with

intervals as (
    select * from {{ ref('int_energy_grid_intervals') }}
    where {{ in_day_window('day') }}
        and {{ in_site_window('site_id') }}
),

final as (
    select
        site_id,
        grid_id,
        day,
        period_name,
        sum(kwh) as kwh,
        max(rate_per_kwh) as rate_per_kwh,
        sum(energy_cost) as cost
    from intervals
    group by site_id, grid_id, day, period_name
)

select * from final
