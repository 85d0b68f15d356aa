{#- Prepaid credit purchases (top-ups): credit bought (`amount`), discount and amount
    paid (`final_amount`).
    From `<lake_root>/metering/purchases/site=<site>/source=<layout>/<import_batch_id>.parquet`
    (docs/metering.md); typed and empty while the lake holds no such file. -#}
with

source as (
    {{ read_lake_table(
        source('metering_lake', 'purchases'),
        [
            ['purchase_id', 'varchar'],
            ['customer_id', 'varchar'],
            ['meter_id', 'varchar'],
            ['paid_at', 'timestamp with time zone'],
            ['amount', 'double precision'],
            ['voucher_code', 'varchar'],
            ['discount', 'double precision'],
            ['final_amount', 'double precision'],
            ['payment_method', 'varchar'],
            ['provider', 'varchar'],
            ['token_id', 'varchar'],
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
        purchase_id,
        customer_id,
        meter_id,
        paid_at,
        amount,
        voucher_code,
        discount,
        final_amount,
        payment_method,
        provider,
        token_id,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
