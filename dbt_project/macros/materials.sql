{#- Reading the materials record files and site tables. Each model lists the columns it reads
    with their types once: with files, the columns are read and cast; without any (a site whose
    materials section or record drops have not arrived yet), the same columns come back typed
    and empty, so the domain builds on every site. -#}

{% macro read_lake_table(location, columns, record_files=false) -%}
    {{ return(adapter.dispatch('read_lake_table')(location, columns, record_files)) }}
{%- endmacro %}

{#- `columns`: [[name, type], ...]. Record files
    (`<kind>/site=<site>/source=<layout>/<batch_id>.parquet`) add the hive keys `site` and
    `source` and `import_batch_id`, the file's stem: the import batch that wrote it (a record's
    own `batch_id` is the production batch). -#}
{% macro duckdb__read_lake_table(location, columns, record_files) -%}
    {%- if lake_has_files(location) -%}
    select
        {%- for column in columns %}
        cast({{ column[0] }} as {{ column[1] }}) as {{ column[0] }}{% if not loop.last or record_files %},{% endif %}
        {%- endfor %}
        {%- if record_files %}
        cast(site as varchar) as site,
        cast(source as varchar) as source,
        regexp_extract(lake_file, '([^/\\]+)\.parquet$', 1) as import_batch_id
        {%- endif %}
    from read_parquet(
        {{ location }},
        {%- if record_files %}
        hive_partitioning = true,
        hive_types = {'site': varchar, 'source': varchar},
        filename = 'lake_file',
        {%- endif %}
        union_by_name = true
    )
    {%- else -%}
    select
        {%- for column in columns %}
        cast(null as {{ column[1] }}) as {{ column[0] }}{% if not loop.last or record_files %},{% endif %}
        {%- endfor %}
        {%- if record_files %}
        cast(null as varchar) as site,
        cast(null as varchar) as source,
        cast(null as varchar) as import_batch_id
        {%- endif %}
    where false
    {%- endif -%}
{%- endmacro %}
