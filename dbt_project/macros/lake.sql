{#- Reading the raw lake. Sources carry the file glob as dbt-duckdb `external_location` meta; these
    macros wrap the engine's Parquet reader around it. -#}

{% macro read_lake_parquet(location, hive_partitioning=false) -%}
    {{ return(adapter.dispatch('read_lake_parquet')(location, hive_partitioning)) }}
{%- endmacro %}

{% macro duckdb__read_lake_parquet(location, hive_partitioning) -%}
    {%- if hive_partitioning -%}
    {#- hive keys typed explicitly: a site id such as '2024' must stay text -#}
    read_parquet(
        {{ location }},
        hive_partitioning = true,
        hive_types = {'site': varchar, 'source': varchar, 'day': date},
        union_by_name = true
    )
    {%- else -%}
    read_parquet({{ location }}, union_by_name = true)
    {%- endif -%}
{%- endmacro %}

{#- PostgreSQL: `siteledger warehouse load-lake` (siteledger/lake_load.py) has copied the files
    into the source's table, hive keys included. -#}
{% macro postgres__read_lake_parquet(location, hive_partitioning) -%}
    {{ location }}
{%- endmacro %}

{#- Whether any file matches a source's glob: a new site has configuration before its first
    readings, and the reader fails on a glob that matches nothing. -#}
{% macro lake_has_files(location) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(adapter.dispatch('lake_has_files')(location)) }}
{%- endmacro %}

{% macro duckdb__lake_has_files(location) -%}
    {%- set result = run_query('select count(*) from glob(' ~ location ~ ')') -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- PostgreSQL: the load step creates a source's table with its first file. -#}
{% macro postgres__lake_has_files(location) -%}
    {%- set relation = adapter.get_relation(
        database=location.database, schema=location.schema, identifier=location.identifier
    ) -%}
    {{ return(relation is not none) }}
{%- endmacro %}
