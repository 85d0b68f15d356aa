{#- Purchase orders, the yardstick of supplier on-time and in-full, one row per delivered record
    of a record file
    (`<lake_root>/materials/purchase_orders/site=<site>/source=<layout>/<batch_id>.parquet`);
    typed and empty while the lake holds no such file. Quantities are in the material's base
    unit, money in the site currency (the importer converted both). -#}
with

source as (
    {{ read_lake_table(
        source('materials_lake', 'purchase_orders'),
        [
            ['po_id', 'varchar'],
            ['supplier_id', 'varchar'],
            ['material_id', 'varchar'],
            ['ordered_at', 'timestamp with time zone'],
            ['promised_date', 'date'],
            ['qty', 'double precision'],
            ['unit', 'varchar'],
            ['unit_price', 'double precision'],
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
        po_id,
        supplier_id,
        material_id,
        ordered_at,
        promised_date,
        qty,
        unit,
        unit_price,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
