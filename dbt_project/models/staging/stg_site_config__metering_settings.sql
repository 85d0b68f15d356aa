{#- Metering settings of each site (defaults where the site file has no `metering:` section)
    (`<lake_root>/config/metering_settings/site=<site_id>.parquet`); typed and empty before any site has been
    exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'metering_settings'),
        [
            ['site_id', 'varchar'],
            ['currency', 'varchar'],
            ['emergency_credit', 'double precision'],
            ['low_balance_threshold', 'double precision'],
            ['low_balance_days', 'varchar'],
            ['credit_days_window', 'integer'],
            ['night_start_hour', 'integer'],
            ['night_end_hour', 'integer'],
            ['night_flow_l_per_h', 'double precision'],
            ['zero_flow_l_per_h', 'double precision'],
            ['intermittent_min_hours', 'integer'],
            ['burst_q3_fraction', 'double precision'],
            ['default_q3_m3_per_h', 'double precision'],
            ['reverse_flow_l', 'double precision'],
            ['offline_after_intervals', 'integer'],
            ['low_battery_pct', 'double precision'],
            ['weak_signal_dbm', 'double precision'],
            ['per_capita_benchmark_l', 'double precision'],
            ['peak_hours', 'varchar'],
            ['revenue_drop_pct', 'double precision'],
            ['maintenance_due_days', 'integer']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        currency,
        emergency_credit,
        low_balance_threshold,
        low_balance_days,
        credit_days_window,
        night_start_hour,
        night_end_hour,
        night_flow_l_per_h,
        zero_flow_l_per_h,
        intermittent_min_hours,
        burst_q3_fraction,
        default_q3_m3_per_h,
        reverse_flow_l,
        offline_after_intervals,
        low_battery_pct,
        weak_signal_dbm,
        per_capita_benchmark_l,
        peak_hours,
        revenue_drop_pct,
        maintenance_due_days
    from source
)

select * from renamed
