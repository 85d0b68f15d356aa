{#- Customer meter actions (create, update, deactivate): which customer a meter serves
    and its device data.
    From `<lake_root>/metering/meters/site=<site>/source=<layout>/<import_batch_id>.parquet`
    (docs/metering.md); typed and empty while the lake holds no such file. -#}
with

source as (
    {{ read_lake_table(
        source('metering_lake', 'meters'),
        [
            ['meter_id', 'varchar'],
            ['action', 'varchar'],
            ['customer_id', 'varchar'],
            ['meter_type', 'varchar'],
            ['q3_m3_per_h', 'double precision'],
            ['install_date', 'date'],
            ['location', 'varchar'],
            ['latitude', 'double precision'],
            ['longitude', 'double precision'],
            ['communication', 'varchar'],
            ['reading_interval_minutes', 'integer'],
            ['effective_at', 'timestamp with time zone'],
            ['import_batch_id', 'varchar'],
            ['source_file', 'varchar'],
            ['source_row', 'bigint'],
            ['loaded_at', 'timestamp with time zone']
        ],
        record_files=true
    ) }}
),

renamed as (
    select
        site as site_id,
        source as source_name,
        meter_id,
        action,
        customer_id,
        meter_type,
        q3_m3_per_h,
        install_date,
        location,
        latitude,
        longitude,
        communication,
        reading_interval_minutes,
        effective_at,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
