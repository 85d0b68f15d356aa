{#- Purchase receipts: each creates one lot of a material, one row per delivered record of a
    record file
    (`<lake_root>/materials/receipts/site=<site>/source=<layout>/<batch_id>.parquet`); typed and
    empty while the lake holds no such file. Quantities are in the material's base unit, money
    in the site currency (the importer converted both). -#}
with

source as (
    {{ read_lake_table(
        source('materials_lake', 'receipts'),
        [
            ['receipt_id', 'varchar'],
            ['lot_id', 'varchar'],
            ['material_id', 'varchar'],
            ['supplier_id', 'varchar'],
            ['po_id', 'varchar'],
            ['received_at', 'timestamp with time zone'],
            ['qty', 'double precision'],
            ['unit', 'varchar'],
            ['qty_given', 'double precision'],
            ['unit_given', 'varchar'],
            ['unit_cost', 'double precision'],
            ['currency_given', 'varchar'],
            ['unit_cost_given', 'double precision'],
            ['expiry_date', 'date'],
            ['supplier_lot', 'varchar'],
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
        receipt_id,
        lot_id,
        material_id,
        supplier_id,
        po_id,
        received_at,
        qty,
        unit,
        qty_given,
        unit_given,
        unit_cost,
        currency_given,
        unit_cost_given,
        expiry_date,
        supplier_lot,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
