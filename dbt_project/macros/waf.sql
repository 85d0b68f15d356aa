{#- The WAF core categories that get a column of their own in the wide site balance marts
    (siteledger.site.models DEFAULT_INPUT_SOURCES / DEFAULT_OUTPUT_DESTINATIONS). Categories a
    site adds beyond these count in the totals and appear in fct_site_water_by_category. -#}
{% macro waf_input_sources() -%}
    {{ return(['surface_water', 'groundwater', 'sea_water', 'third_party_water', 'other']) }}
{%- endmacro %}

{% macro waf_output_destinations() -%}
    {{ return([
        'surface_water', 'groundwater', 'sea_water', 'third_party_water',
        'evaporation', 'entrainment', 'other',
    ]) }}
{%- endmacro %}

{% macro accounting_methods() -%}
    {{ return(['measured', 'estimated', 'simulated']) }}
{%- endmacro %}
