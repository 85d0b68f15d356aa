{#- Value of `value` on the row where `order_by` is largest / smallest within a group. -#}

{% macro value_at_max(value, order_by) -%}
    {{ return(adapter.dispatch('value_at_max')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__value_at_max(value, order_by) -%}
    arg_max({{ value }}, {{ order_by }})
{%- endmacro %}

{#- PostgreSQL: DuckDB's arg_max skips rows whose value or ordering is null; `desc` alone would
    put null orderings first. -#}
{% macro postgres__value_at_max(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }} desc)
        filter (where {{ value }} is not null and {{ order_by }} is not null))[1]
{%- endmacro %}

{% macro default__value_at_max(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }} desc))[1]
{%- endmacro %}

{% macro value_at_min(value, order_by) -%}
    {{ return(adapter.dispatch('value_at_min')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__value_at_min(value, order_by) -%}
    arg_min({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro postgres__value_at_min(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }})
        filter (where {{ value }} is not null and {{ order_by }} is not null))[1]
{%- endmacro %}

{% macro default__value_at_min(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }}))[1]
{%- endmacro %}

{#- Division that yields null instead of failing or returning infinity on a zero denominator. -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- y at x on the straight line through (x0, y0) and (x1, y1): interpolation between the points,
    extrapolation outside them. -#}
{% macro linear_interpolate(x, x0, y0, x1, y1) -%}
    ({{ y0 }} + ({{ x }} - {{ x0 }}) * ({{ y1 }} - {{ y0 }}) / ({{ x1 }} - {{ x0 }}))
{%- endmacro %}

{#- Number of rows in a group where `condition` holds, as a bigint (a plain sum of integers
    widens to a 128-bit integer in DuckDB, which BI drivers read badly). -#}
{% macro count_where(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as bigint)
{%- endmacro %}

{#- Value of `value` on the first / last row of a group by `order_by`, null when that row's is
    null (value_at_min / value_at_max skip null values: an unknown opening storage must stay
    unknown, not become a later month's). -#}
{% macro value_at_first(value, order_by) -%}
    {{ return(adapter.dispatch('value_at_first')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__value_at_first(value, order_by) -%}
    arg_min_null({{ value }}, {{ order_by }})
{%- endmacro %}

{#- PostgreSQL: arg_min_null keeps a null value but skips a null ordering. -#}
{% macro postgres__value_at_first(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }}) filter (where {{ order_by }} is not null))[1]
{%- endmacro %}

{% macro default__value_at_first(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }}))[1]
{%- endmacro %}

{% macro value_at_last(value, order_by) -%}
    {{ return(adapter.dispatch('value_at_last')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__value_at_last(value, order_by) -%}
    arg_max_null({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro postgres__value_at_last(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }} desc)
        filter (where {{ order_by }} is not null))[1]
{%- endmacro %}

{% macro default__value_at_last(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }} desc))[1]
{%- endmacro %}

{#- Sum of `value` over a group, null when any row's is null (a period whose storage change is
    unknown in one month has an unknown storage change). -#}
{% macro sum_all_known(value) -%}
    case when count({{ value }}) = count(*) then sum({{ value }}) end
{%- endmacro %}
