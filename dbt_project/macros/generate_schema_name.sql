{#- Layers live in schemas named after them (staging, intermediate, marts), not <target>_<layer>,
    so BI tools and the publisher find the marts under one stable name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
