{#- Maintenance tasks of customer meters, one row per delivered version of a task.
    From `<lake_root>/metering/maintenance/site=<site>/source=<layout>/<import_batch_id>.parquet`
    (docs/metering.md); typed and empty while the lake holds no such file. -#}
with

source as (
    {{ read_lake_table(
        source('metering_lake', 'maintenance'),
        [
            ['task_id', 'varchar'],
            ['meter_id', 'varchar'],
            ['task_type', 'varchar'],
            ['due_date', 'date'],
            ['technician', 'varchar'],
            ['status', 'varchar'],
            ['done_at', 'timestamp with time zone'],
            ['notes', 'varchar'],
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
        task_id,
        meter_id,
        task_type,
        due_date,
        technician,
        status,
        done_at,
        notes,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
