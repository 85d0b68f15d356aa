{#- Stock movements other than receipts: issues, returns, adjustments, waste, one row per
    delivered record of a record file
    (`<lake_root>/materials/movements/site=<site>/source=<layout>/<batch_id>.parquet`); typed
    and empty while the lake holds no such file. Quantities are in the material's base unit,
    money in the site currency (the importer converted both). -#}
with

source as (
    {{ read_lake_table(
        source('materials_lake', 'movements'),
        [
            ['movement_id', 'varchar'],
            ['moved_at', 'timestamp with time zone'],
            ['material_id', 'varchar'],
            ['lot_id', 'varchar'],
            ['kind', 'varchar'],
            ['qty', 'double precision'],
            ['unit', 'varchar'],
            ['qty_given', 'double precision'],
            ['unit_given', 'varchar'],
            ['unit_cost', 'double precision'],
            ['batch_id', 'varchar'],
            ['job_id', 'varchar'],
            ['reason', 'varchar'],
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
        movement_id,
        moved_at,
        material_id,
        lot_id,
        kind,
        qty,
        unit,
        qty_given,
        unit_given,
        unit_cost,
        batch_id,
        job_id,
        reason,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
