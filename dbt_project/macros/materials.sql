{#- Reading the materials record files and site tables. Each model lists the columns it reads
    with their types once: with files, the columns are read and cast; without any (a site whose
    materials section or record drops have not arrived yet), the same columns come back typed
    and empty, so the domain builds on every site. -#}

{% macro read_lake_table(location, columns, record_files=false) -%}
    {{ return(adapter.dispatch('read_lake_table')(location, columns, record_files)) }}
{%- endmacro %}

{#- `columns`: [[name, type], ...]. Record files
    (`<kind>/site=<site>/source=<layout>/<import_batch_id>.parquet`) add the hive keys `site`
    and `source`. -#}
{% macro duckdb__read_lake_table(location, columns, record_files) -%}
    {%- if lake_has_files(location) -%}
    select
        {%- for column in columns %}
        cast({{ column[0] }} as {{ column[1] }}) as {{ column[0] }}{% if not loop.last or record_files %},{% endif %}
        {%- endfor %}
        {%- if record_files %}
        cast(site as varchar) as site,
        cast(source as varchar) as source
        {%- endif %}
    from read_parquet(
        {{ location }},
        {%- if record_files %}
        hive_partitioning = true,
        hive_types = {'site': varchar, 'source': varchar},
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
        cast(null as varchar) as source
        {%- endif %}
    where false
    {%- endif -%}
{%- endmacro %}

{#- PostgreSQL: the files' table copied by the load step (siteledger/lake_load.py), hive keys
    included. -#}
{% macro postgres__read_lake_table(location, columns, record_files) -%}
    {%- set has_files = lake_has_files(location) -%}
    {%- set names = columns | map(attribute=0) | list + (['site', 'source'] if record_files else []) -%}
    {%- set types = columns | map(attribute=1) | list + (['varchar', 'varchar'] if record_files else []) -%}
    select
        {%- for name in names %}
        cast({{ name if has_files else 'null' }} as {{ types[loop.index0] }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    {%- if has_files %}
    from {{ location }}
    {%- else %}
    where false
    {%- endif %}
{%- endmacro %}

{#- The standard normal quantile: z such that P(Z <= z) = p, for 0 < p < 1 (null outside).
    Acklam's rational approximation (relative error below 1.2e-9), plain arithmetic so that it
    runs on any engine. -#}
{% macro normal_quantile(p) -%}
    case
        when {{ p }} <= 0 or {{ p }} >= 1 then null
        when {{ p }} < 0.02425 then
            (((((-7.784894002430293e-03 * sqrt(-2 * ln({{ p }}))
                - 3.223964580411365e-01) * sqrt(-2 * ln({{ p }}))
                - 2.400758277161838e+00) * sqrt(-2 * ln({{ p }}))
                - 2.549671010229528e+00) * sqrt(-2 * ln({{ p }}))
                + 4.374664141464968e+00) * sqrt(-2 * ln({{ p }}))
                + 2.938163982698783e+00)
            / ((((7.784695709041462e-03 * sqrt(-2 * ln({{ p }}))
                + 3.224671290700398e-01) * sqrt(-2 * ln({{ p }}))
                + 2.445134137142996e+00) * sqrt(-2 * ln({{ p }}))
                + 3.754408661907416e+00) * sqrt(-2 * ln({{ p }})) + 1)
        when {{ p }} > 1 - 0.02425 then
            -(((((-7.784894002430293e-03 * sqrt(-2 * ln(1 - {{ p }}))
                - 3.223964580411365e-01) * sqrt(-2 * ln(1 - {{ p }}))
                - 2.400758277161838e+00) * sqrt(-2 * ln(1 - {{ p }}))
                - 2.549671010229528e+00) * sqrt(-2 * ln(1 - {{ p }}))
                + 4.374664141464968e+00) * sqrt(-2 * ln(1 - {{ p }}))
                + 2.938163982698783e+00)
            / ((((7.784695709041462e-03 * sqrt(-2 * ln(1 - {{ p }}))
                + 3.224671290700398e-01) * sqrt(-2 * ln(1 - {{ p }}))
                + 2.445134137142996e+00) * sqrt(-2 * ln(1 - {{ p }}))
                + 3.754408661907416e+00) * sqrt(-2 * ln(1 - {{ p }})) + 1)
        else
            (((((-3.969683028665376e+01 * power({{ p }} - 0.5, 2)
                + 2.209460984245205e+02) * power({{ p }} - 0.5, 2)
                - 2.759285104469687e+02) * power({{ p }} - 0.5, 2)
                + 1.383577518672690e+02) * power({{ p }} - 0.5, 2)
                - 3.066479806614716e+01) * power({{ p }} - 0.5, 2)
                + 2.506628277459239e+00) * ({{ p }} - 0.5)
            / (((((-5.447609879822406e+01 * power({{ p }} - 0.5, 2)
                + 1.615858368580409e+02) * power({{ p }} - 0.5, 2)
                - 1.556989798598866e+02) * power({{ p }} - 0.5, 2)
                + 6.680131188771972e+01) * power({{ p }} - 0.5, 2)
                - 1.328068155288572e+01) * power({{ p }} - 0.5, 2) + 1)
    end
{%- endmacro %}

{#- z of a service level: the textbook table's 1.28 / 1.65 / 2.33 for 90 / 95 / 99 %
    (docs/materials.md), the normal quantile for any other level. -#}
{% macro service_level_z(service_level) -%}
    case
        when {{ service_level }} = 0.90 then 1.28
        when {{ service_level }} = 0.95 then 1.65
        when {{ service_level }} = 0.99 then 2.33
        else {{ normal_quantile(service_level) }}
    end
{%- endmacro %}
