{#- Every meter with what its readings are used for in the water balance. -#}
with

meters as (
    select * from {{ ref('stg_site_config__meters') }}
),

nodes as (
    select * from {{ ref('stg_site_config__nodes') }}
),

rule_inputs as (
    select site_id, rain_meter_id as meter_id from {{ ref('stg_site_config__estimation_rules') }}
    union
    select site_id, pan_meter_id from {{ ref('stg_site_config__estimation_rules') }}
    union
    select site_id, ore_meter_id from {{ ref('stg_site_config__estimation_rules') }}
    union
    select site_id, moisture_meter_id from {{ ref('stg_site_config__estimation_rules') }}
),

final as (
    select
        meters.*,
        case
            when meters.flow_id is not null
                and meters.measurand in ('totaliser', 'volume', 'flow_rate')
                then 'flow_volume'
            when meters.node_id is not null and meters.measurand = 'level' then 'store_level'
            when rule_inputs.meter_id is not null then 'estimation_input'
            when meters.measurand = 'ore_mass' then 'ore_tonnes'
            else 'other'
        end as balance_role,
        -- ore entering the site (a weightometer on a source node, or on no node) is the
        -- denominator of water intensity; tonnes leaving it (concentrate) are not
        meters.measurand in ('ore_mass', 'ore_rate')
            and coalesce(nodes.node_kind, 'source') = 'source' as is_ore_feed
    from meters
    left join nodes
        on meters.site_id = nodes.site_id
        and meters.node_id = nodes.node_id
    left join rule_inputs
        on meters.site_id = rule_inputs.site_id
        and meters.meter_id = rule_inputs.meter_id
)

select * from final
