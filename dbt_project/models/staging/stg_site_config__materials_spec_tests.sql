{#- Tests of each specification version
    (`<lake_root>/config/materials_spec_tests/site=<site_id>.parquet`); typed and empty before
    any site has been exported with it. -#}
with

source as (
    {{ read_lake_table(
        source('site_config', 'materials_spec_tests'),
        [
            ['site_id', 'varchar'],
            ['spec_id', 'varchar'],
            ['version', 'integer'],
            ['test_id', 'varchar'],
            ['name', 'varchar'],
            ['method', 'varchar'],
            ['unit', 'varchar'],
            ['min_value', 'double precision'],
            ['max_value', 'double precision'],
            ['expected_text', 'varchar']
        ]
    ) }}
),

renamed as (
    select
        site_id,
        spec_id,
        version,
        test_id,
        name as test_name,
        method,
        unit,
        min_value,
        max_value,
        expected_text
    from source
)

select * from renamed
