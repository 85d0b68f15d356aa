{#- Sales of products, with the shipped lot where recorded, one row per delivered record of a
    record file (`<lake_root>/materials/sales/site=<site>/source=<layout>/<batch_id>.parquet`);
    typed and empty while the lake holds no such file. Quantities are in the material's base
    unit, money in the site currency (the importer converted both). -#}
with

source as (
    {{ read_lake_table(
        source('materials_lake', 'sales'),
        [
            ['sale_id', 'varchar'],
            ['sold_at', 'timestamp with time zone'],
            ['customer_id', 'varchar'],
            ['product_id', 'varchar'],
            ['lot_id', 'varchar'],
            ['qty', 'double precision'],
            ['unit', 'varchar'],
            ['unit_price', 'double precision'],
            ['currency_given', 'varchar'],
            ['unit_price_given', 'double precision'],
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
        sale_id,
        sold_at,
        customer_id,
        product_id,
        lot_id,
        qty,
        unit,
        unit_price,
        currency_given,
        unit_price_given,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
