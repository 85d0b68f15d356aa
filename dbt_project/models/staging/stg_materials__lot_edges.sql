{#- Split, merge and rework edges between lots, one row per delivered record of a record file
    (`<lake_root>/materials/lot_edges/site=<site>/source=<layout>/<batch_id>.parquet`); typed
    and empty while the lake holds no such file. Quantities are in the material's base unit,
    money in the site currency (the importer converted both). -#}
with

source as (
    {{ read_lake_table(
        source('materials_lake', 'lot_edges'),
        [
            ['edge_id', 'varchar'],
            ['parent_lot_id', 'varchar'],
            ['child_lot_id', 'varchar'],
            ['relation', 'varchar'],
            ['qty', 'double precision'],
            ['unit', 'varchar'],
            ['moved_at', 'timestamp with time zone'],
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
        edge_id,
        parent_lot_id,
        child_lot_id,
        relation,
        qty,
        unit,
        moved_at,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
