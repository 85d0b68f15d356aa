{#- Customer actions (create, update, deactivate) of the prepaid customer register,
    one row per delivered record.
    From `<lake_root>/metering/customers/site=<site>/source=<layout>/<import_batch_id>.parquet`
    (docs/metering.md); typed and empty while the lake holds no such file. -#}
with

source as (
    {{ read_lake_table(
        source('metering_lake', 'customers'),
        [
            ['customer_id', 'varchar'],
            ['action', 'varchar'],
            ['name', 'varchar'],
            ['segment', 'varchar'],
            ['household_size', 'integer'],
            ['district_id', 'varchar'],
            ['low_balance_threshold', 'double precision'],
            ['address', 'varchar'],
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
        customer_id,
        action,
        name,
        segment,
        household_size,
        district_id,
        low_balance_threshold,
        address,
        effective_at,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
