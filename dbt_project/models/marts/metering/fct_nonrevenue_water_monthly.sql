{#- Non-revenue water of each district and site-local month: the days of
    fct_nonrevenue_water_daily added up; nrw_pct = nrw / system input in %. -#}
with

days as (
    select * from {{ ref('fct_nonrevenue_water_daily') }}
),

monthly as (
    select
        site_id,
        district_id,
        {{ month_start('day') }} as month,
        sum(system_input_m3) as system_input_m3,
        sum(billed_m3) as billed_m3
    from days
    group by all
),

final as (
    select
        site_id,
        district_id,
        month,
        system_input_m3,
        billed_m3,
        system_input_m3 - billed_m3 as nrw_m3,
        100.0 * (system_input_m3 - billed_m3) / nullif(system_input_m3, 0) as nrw_pct
    from monthly
)

select * from final
