{#- A sustainability score: 100 at `best`, 0 at `worst`, straight between and clipped, for either
    direction (best below worst when lower is better). Null when any input is null: greatest and
    least skip nulls on some engines, so the null case is spelt out. best <> worst is checked when
    the site file is loaded. -#}
{% macro sustainability_score(value, best, worst) -%}
    case
        when {{ value }} is not null and {{ best }} is not null and {{ worst }} is not null
            then 100.0 * greatest(
                0.0, least(1.0, ({{ worst }} - {{ value }}) / ({{ worst }} - {{ best }}))
            )
    end
{%- endmacro %}
