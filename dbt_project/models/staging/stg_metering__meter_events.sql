{#- Events the meters (head-end) reported: tamper, reverse flow, low battery, leak, burst ...
    From `<lake_root>/metering/meter_events/site=<site>/source=<layout>/<import_batch_id>.parquet`
    (docs/metering.md); typed and empty while the lake holds no such file. -#}
with

source as (
    {{ read_lake_table(
        source('metering_lake', 'meter_events'),
        [
            ['event_id', 'varchar'],
            ['meter_id', 'varchar'],
            ['occurred_at', 'timestamp with time zone'],
            ['event_type', 'varchar'],
            ['cleared_at', 'timestamp with time zone'],
            ['detail', 'varchar'],
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
        event_id,
        meter_id,
        occurred_at,
        event_type,
        cleared_at,
        detail,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
