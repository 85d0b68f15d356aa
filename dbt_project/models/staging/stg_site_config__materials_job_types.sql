{#- Job types of a job shop (`<lake_root>/config/materials_job_types/site=<site_id>.parquet`);
    typed and empty before any site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_job_types'),
        [
            ['site_id', 'varchar'],
            ['job_type_id', 'varchar'],
            ['name', 'varchar'],
            ['m2_per_man_hour', 'double precision'],
            ['film_um', 'double precision']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        job_type_id,
        name as job_type_name,
        m2_per_man_hour,
        film_um
    from source
)

select * from renamed
