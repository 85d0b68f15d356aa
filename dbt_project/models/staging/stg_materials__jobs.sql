{#- Job shop jobs (powder coating) from quote to invoice, one row per delivered record of a
    record file (`<lake_root>/materials/jobs/site=<site>/source=<layout>/<batch_id>.parquet`);
    typed and empty while the lake holds no such file. Quantities are in the material's base
    unit, money in the site currency (the importer converted both). -#}
with

source as (
    {{ read_lake_table(
        source('materials_lake', 'jobs'),
        [
            ['job_id', 'varchar'],
            ['customer_id', 'varchar'],
            ['job_type_id', 'varchar'],
            ['parts', 'integer'],
            ['area_m2', 'double precision'],
            ['colour', 'varchar'],
            ['powder_material_id', 'varchar'],
            ['film_um', 'double precision'],
            ['labour_hours', 'double precision'],
            ['oven_kwh', 'double precision'],
            ['oven_cost', 'double precision'],
            ['quoted_price', 'double precision'],
            ['invoiced_price', 'double precision'],
            ['received_at', 'timestamp with time zone'],
            ['started_at', 'timestamp with time zone'],
            ['completed_at', 'timestamp with time zone'],
            ['invoiced_at', 'timestamp with time zone'],
            ['status', 'varchar'],
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
        job_id,
        customer_id,
        job_type_id,
        parts,
        area_m2,
        colour,
        powder_material_id,
        film_um,
        labour_hours,
        oven_kwh,
        oven_cost,
        quoted_price,
        invoiced_price,
        received_at,
        started_at,
        completed_at,
        invoiced_at,
        status,
        import_batch_id,
        source_file,
        source_row,
        loaded_at
    from source
)

select * from renamed
