{#- Paths through the lot genealogy in recursive queries: a list of lot ids walked so far, the
    cycle guard of every recursion over lot edges. -#}

{% macro path_start(lot_id) -%}
    {{ return(adapter.dispatch('path_start')(lot_id)) }}
{%- endmacro %}

{% macro duckdb__path_start(lot_id) -%}
    list_value({{ lot_id }})
{%- endmacro %}

{% macro postgres__path_start(lot_id) -%}
    array[{{ lot_id }}]
{%- endmacro %}

{% macro path_append(path, lot_id) -%}
    {{ return(adapter.dispatch('path_append')(path, lot_id)) }}
{%- endmacro %}

{% macro duckdb__path_append(path, lot_id) -%}
    list_append({{ path }}, {{ lot_id }})
{%- endmacro %}

{% macro postgres__path_append(path, lot_id) -%}
    array_append({{ path }}, {{ lot_id }})
{%- endmacro %}

{% macro path_contains(path, lot_id) -%}
    {{ return(adapter.dispatch('path_contains')(path, lot_id)) }}
{%- endmacro %}

{% macro duckdb__path_contains(path, lot_id) -%}
    list_contains({{ path }}, {{ lot_id }})
{%- endmacro %}

{% macro postgres__path_contains(path, lot_id) -%}
    ({{ lot_id }} = any({{ path }}))
{%- endmacro %}

{#- kg in one unit of a material's base unit: mass units by their factor, volume units through
    the material's density (g/mL = kg/L); null for counts. The factors are those of
    siteledger/units.py (tests/dbt/test_materials_trace_qc_jobs.py holds them equal): the marts
    take them from here rather than from stg_site_config__units, whose relationship test with
    the measurands would otherwise join every build of the materials marts alone. -#}
{% macro kg_per_unit(unit, density_g_per_ml) -%}
    {%- set kg = {'t': 1000.0, 'kg': 1.0, 'kt': 1000000.0, 'g': 0.001, 'lb': 0.45359237, 'oz': 0.028349523125} -%}
    {%- set litres = {'m3': 1000.0, 'L': 1.0, 'mL': 0.001, 'ML': 1000000.0, 'GL': 1000000000.0} -%}
    case {{ unit }}
        {%- for symbol, factor in kg.items() %}
        when '{{ symbol }}' then {{ factor }}
        {%- endfor %}
        {%- for symbol, factor in litres.items() %}
        when '{{ symbol }}' then {{ factor }} * {{ density_g_per_ml }}
        {%- endfor %}
    end
{%- endmacro %}
