{#- Production batches with their recipe, planned and actual output, one row per delivered
    record of a record file
    (`<lake_root>/materials/batches/site=<site>/source=<layout>/<batch_id>.parquet`); typed and
    empty while the lake holds no such file. Quantities are in the material's base unit, money
    in the site currency (the importer converted both). -#}
with

source as (
    {{ read_lake_table(
        source('materials_lake', 'batches'),
        [
            ['batch_id', 'varchar'],
            ['product_id', 'varchar'],
            ['recipe_id', 'varchar'],
            ['recipe_version', 'integer'],
            ['planned_qty', 'double precision'],
            ['actual_qty', 'double precision'],
            ['samples_qty', 'double precision'],
            ['output_unit', 'varchar'],
            ['output_lot_id', 'varchar'],
            ['started_at', 'timestamp with time zone'],
            ['finished_at', 'timestamp with time zone'],
            ['equipment', 'varchar'],
            ['containers', 'integer'],
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
        batch_id,
        product_id,
        recipe_id,
        recipe_version,
        planned_qty,
        actual_qty,
        coalesce(samples_qty, 0) as samples_qty,
        output_unit,
        output_lot_id,
        started_at,
        finished_at,
        equipment,
        containers,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
