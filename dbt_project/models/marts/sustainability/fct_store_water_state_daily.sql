{#- The raw / worked / treated composition of every store and site-local day by complete mixing
    of volumes, with the volumes it was mixed from (docs/sustainability-water-and-carbon.md). -#}
with

states as (
    select * from {{ ref('int_store_water_state_daily') }}
),

final as (
    select
        site_id,
        node_id,
        day,
        {{ month_start('day') }} as month_start,
        opening_volume_m3,
        opening_volume_source,
        opening_worked_share,
        opening_treated_share,
        inflow_m3,
        inflow_raw_m3,
        inflow_worked_m3,
        inflow_treated_m3,
        inflow_from_stores_m3,
        outflow_m3,
        mixed_volume_m3,
        raw_share,
        worked_share,
        treated_share,
        outflow_m3 * raw_share as outflow_raw_m3,
        outflow_m3 * worked_share as outflow_worked_m3,
        outflow_m3 * treated_share as outflow_treated_m3,
        closing_volume_m3,
        composition_method
    from states
)

select * from final
