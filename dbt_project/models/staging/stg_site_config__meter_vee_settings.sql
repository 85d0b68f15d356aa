with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'meter_vee_settings')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(meter_id as varchar) as meter_id,
        cast(spike_ratio as double precision) as spike_ratio,
        cast(spike_step as double precision) as spike_step,
        cast(flat_line_hours as double precision) as flat_line_hours,
        cast(late_arrival_hours as double precision) as late_arrival_hours,
        cast(redundancy_tolerance_pct as double precision) as redundancy_tolerance_pct,
        cast(redundancy_floor_pct as double precision) as redundancy_floor_pct,
        cast(estimation_cap_hours as double precision) as estimation_cap_hours,
        cast(profile_days as integer) as profile_days,
        ',' || coalesce(cast(disabled_flags as varchar), '') || ',' as disabled_flags
    from source
)

select * from renamed
