{#- `set memory_limit` to `limit` (e.g. '2GB'), or to what the process already holds plus a
    quarter when that is more: DuckDB refuses to lower its limit below the memory that other
    models running beside this one (dbt threads) keep pinned, and the run would fail. -#}
{% macro memory_cap(limit) -%}
    {%- set text = limit | string | trim | upper -%}
    {%- set units = [['KIB', 1024], ['MIB', 1048576], ['GIB', 1073741824],
        ['TIB', 1099511627776], ['KB', 1000], ['MB', 1000000], ['GB', 1000000000],
        ['TB', 1000000000000], ['B', 1]] -%}
    {%- set ns = namespace(wanted=none) -%}
    {%- for suffix, size in units -%}
        {%- if ns.wanted is none and text.endswith(suffix) -%}
            {%- set ns.wanted = (text[:-(suffix | length)] | trim | float) * size -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if ns.wanted is none or not execute -%}
        set memory_limit = '{{ limit }}'
    {%- else -%}
        {%- set used = run_query(
            "select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory()"
        ).columns[0].values()[0] -%}
        set memory_limit = '{{ [ns.wanted, used * 1.25] | max | int }}B'
    {%- endif -%}
{%- endmacro %}
