{#- Meters with their limits also normalised to the measurand's canonical unit, the unit every
    reading is converted to in stg_lake__readings. -#}
with

meters as (
    select * from {{ read_lake_parquet(source('site_config', 'meters')) }}
),

measurands as (
    select * from {{ read_lake_parquet(source('site_config', 'measurands')) }}
),

units as (
    select * from {{ read_lake_parquet(source('site_config', 'units')) }}
),

renamed as (
    select
        cast(meters.site_id as varchar) as site_id,
        cast(meters.meter_id as varchar) as meter_id,
        cast(meters.name as varchar) as meter_name,
        cast(meters.measurand as varchar) as measurand,
        cast(meters.unit as varchar) as unit,
        cast(measurands.canonical_unit as varchar) as unit_canonical,
        cast(measurands.cumulative as boolean) as is_cumulative,
        cast(meters.interval as varchar) as reading_interval,
        cast(meters.interval_seconds as bigint) as interval_seconds,
        cast(meters.interval_seconds as double precision) / 3600.0 as interval_hours,
        cast(meters.node_id as varchar) as node_id,
        cast(meters.flow_id as varchar) as flow_id,
        cast(meters.valid_min as double precision) as valid_min,
        cast(meters.valid_max as double precision) as valid_max,
        cast(meters.valid_min as double precision) * meter_unit.factor / canonical_unit.factor
            as valid_min_canonical,
        cast(meters.valid_max as double precision) * meter_unit.factor / canonical_unit.factor
            as valid_max_canonical,
        cast(meters.redundancy_group as varchar) as redundancy_group,
        cast(meters.rollover as double precision) as rollover,
        cast(meters.rollover as double precision) * meter_unit.factor / canonical_unit.factor
            as rollover_canonical,
        cast(meters.tag as varchar) as tag,
        cast(meters.manual as boolean) as is_manual,
        cast(meters.description as varchar) as description
    from meters
    left join measurands
        on meters.measurand = measurands.name
    left join units as meter_unit
        on meters.unit = meter_unit.symbol
    left join units as canonical_unit
        on measurands.canonical_unit = canonical_unit.symbol
)

select * from renamed
