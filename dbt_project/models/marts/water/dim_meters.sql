with

meters as (
    select * from {{ ref('int_meters_enriched') }}
),

final as (
    select
        site_id,
        meter_id,
        meter_name,
        measurand,
        unit,
        unit_canonical,
        is_cumulative,
        reading_interval,
        interval_seconds,
        node_id,
        flow_id,
        valid_min,
        valid_max,
        redundancy_group,
        rollover,
        tag,
        is_manual,
        balance_role,
        is_ore_feed,
        description
    from meters
)

select * from final
