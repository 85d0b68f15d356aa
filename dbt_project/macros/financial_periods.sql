{#- Financial periods of a month, named as reports/periods.py names them: a financial year is
    named by the calendar year it ends in (FY2026 = Jul 2025 - Jun 2026) unless it starts in
    January, when it is the plain year (2026); quarters count from the year's first month
    (FY2026-Q1 = Jul - Sep 2025, 2026-Q1 = Jan - Mar 2026). `fy_start_month` is the organisation's
    (dim_sites.financial_year_start_month). -#}

{#- Months from the start of the financial year to `month_start` (0 - 11). -#}
{% macro fy_month_offset(month_start, fy_start_month) -%}
    cast((extract(month from {{ month_start }}) - {{ fy_start_month }} + 12) % 12 as integer)
{%- endmacro %}

{#- First day of the financial year holding `month_start`. -#}
{% macro fy_start(month_start, fy_start_month) -%}
    cast({{ dbt.dateadd('month', '-' ~ fy_month_offset(month_start, fy_start_month), month_start) }} as date)
{%- endmacro %}

{#- Quarter of the financial year holding `month_start` (1 - 4). -#}
{% macro fy_quarter(month_start, fy_start_month) -%}
    cast(floor({{ fy_month_offset(month_start, fy_start_month) }} / 3) as integer) + 1
{%- endmacro %}

{#- First day of the financial quarter holding `month_start`. -#}
{% macro fy_quarter_start(month_start, fy_start_month) -%}
    cast({{ dbt.dateadd(
        'month', '-(' ~ fy_month_offset(month_start, fy_start_month) ~ ' % 3)', month_start
    ) }} as date)
{%- endmacro %}

{#- Name of the financial year that starts on `fy_start` (a date). -#}
{% macro fy_name(fy_start) -%}
    case
        when extract(month from {{ fy_start }}) = 1
            then cast(cast(extract(year from {{ fy_start }}) as integer) as varchar)
        else 'FY' || cast(cast(extract(year from {{ fy_start }}) as integer) + 1 as varchar)
    end
{%- endmacro %}

{#- Last day of the period of `n_months` months that starts on `period_start`. -#}
{% macro period_end(period_start, n_months) -%}
    {{ add_days(dbt.dateadd('month', n_months, period_start), -1) }}
{%- endmacro %}

{#- Every row of `months` (a CTE with month_start, fy_start, fy_quarter and quarter_start) once
    per period it belongs to: its month, its financial quarter and its financial year, with
    period_kind, period_start, period_months and period_key (2025-07, FY2026-Q1, FY2026). -#}
{% macro expand_months_to_periods(months) -%}
    select
        *,
        'month' as period_kind,
        month_start as period_start,
        1 as period_months,
        {{ dbt.concat([
            "cast(cast(extract(year from month_start) as integer) as varchar)",
            "'-'",
            "lpad(cast(cast(extract(month from month_start) as integer) as varchar), 2, '0')",
        ]) }} as period_key
    from {{ months }}
    union all
    select
        *,
        'quarter' as period_kind,
        quarter_start as period_start,
        3 as period_months,
        {{ fy_name('fy_start') }} || '-Q' || cast(fy_quarter as varchar) as period_key
    from {{ months }}
    union all
    select
        *,
        'year' as period_kind,
        fy_start as period_start,
        12 as period_months,
        {{ fy_name('fy_start') }} as period_key
    from {{ months }}
{%- endmacro %}
