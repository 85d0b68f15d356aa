{#- Paths through the lot genealogy in recursive queries: a list of lot ids walked so far, the
    cycle guard of every recursion over lot edges. -#}

{% macro path_start(lot_id) -%}
    {{ return(adapter.dispatch('path_start')(lot_id)) }}
{%- endmacro %}

{% macro duckdb__path_start(lot_id) -%}
    list_value({{ lot_id }})
{%- endmacro %}

{% macro path_append(path, lot_id) -%}
    {{ return(adapter.dispatch('path_append')(path, lot_id)) }}
{%- endmacro %}

{% macro duckdb__path_append(path, lot_id) -%}
    list_append({{ path }}, {{ lot_id }})
{%- endmacro %}

{% macro path_contains(path, lot_id) -%}
    {{ return(adapter.dispatch('path_contains')(path, lot_id)) }}
{%- endmacro %}

{% macro duckdb__path_contains(path, lot_id) -%}
    list_contains({{ path }}, {{ lot_id }})
{%- endmacro %}
