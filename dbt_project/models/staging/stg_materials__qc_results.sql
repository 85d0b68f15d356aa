{#- Quality control results of lots against a specification's tests, one row per delivered
    record of a record file
    (`<lake_root>/materials/qc_results/site=<site>/source=<layout>/<batch_id>.parquet`); typed
    and empty while the lake holds no such file. Quantities are in the material's base unit,
    money in the site currency (the importer converted both). -#}
with

source as (
    {{ read_lake_table(
        source('materials_lake', 'qc_results'),
        [
            ['result_id', 'varchar'],
            ['lot_id', 'varchar'],
            ['spec_id', 'varchar'],
            ['spec_version', 'integer'],
            ['test_id', 'varchar'],
            ['value', 'double precision'],
            ['result_text', 'varchar'],
            ['tested_at', 'timestamp with time zone'],
            ['analyst', 'varchar'],
            ['approver', 'varchar'],
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
        result_id,
        lot_id,
        spec_id,
        spec_version,
        test_id,
        value,
        result_text,
        tested_at,
        analyst,
        approver,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
