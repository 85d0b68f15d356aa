{#- Voucher definitions (discount codes of credit purchases).
    From `<lake_root>/metering/vouchers/site=<site>/source=<layout>/<import_batch_id>.parquet`
    (docs/metering.md); typed and empty while the lake holds no such file. -#}
with

source as (
    {{ read_lake_table(
        source('metering_lake', 'vouchers'),
        [
            ['voucher_code', 'varchar'],
            ['discount_type', 'varchar'],
            ['value', 'double precision'],
            ['max_discount', 'double precision'],
            ['min_purchase', 'double precision'],
            ['total_limit', 'integer'],
            ['per_customer_limit', 'integer'],
            ['valid_from', 'timestamp with time zone'],
            ['valid_until', 'timestamp with time zone'],
            ['description', 'varchar'],
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
        voucher_code,
        discount_type,
        value,
        max_discount,
        min_purchase,
        total_limit,
        per_customer_limit,
        valid_from,
        valid_until,
        description,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
