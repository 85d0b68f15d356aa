{#- The site-local days a reading can have: from the site's first day of data (its data_start,
    else the organisation's: the sites table carries whichever applies) to a little after today.
    The importers quarantine readings outside them (a logger clock reset to 1970 or run away to
    9999); these bounds keep whatever reached the lake anyway (files imported before that check)
    from stretching the day spine and the gap series over thousands of years. -#}

{#- The first day when neither the site nor the organisation names one: where the day
    partitions start (siteledger.site.organisation.FALLBACK_DATA_START). -#}
{% macro fallback_first_day() -%}
    cast('2020-01-01' as date)
{%- endmacro %}

{#- Days after today still accepted: tomorrow in any zone plus the largest future tolerance a
    site file accepts (31 days); the importer applies the site's own, smaller one. -#}
{% macro future_days_accepted() -%}
    32
{%- endmacro %}

{% macro first_plausible_day(data_start) -%}
    coalesce({{ data_start }}, {{ fallback_first_day() }})
{%- endmacro %}

{% macro last_plausible_day() -%}
    {{ add_days('current_date', future_days_accepted()) }}
{%- endmacro %}

{#- `day` lies in the plausible days of a site whose first day of data is `data_start`. -#}
{% macro in_plausible_days(day, data_start) -%}
    ({{ day }} >= {{ first_plausible_day(data_start) }} and {{ day }} <= {{ last_plausible_day() }})
{%- endmacro %}

{#- An instant moved forward to the run's window start (two days early, for time zones and
    the lookback's day before), when the run has a window; a series from it stays in the window.
    The start of the day after `column`'s is not needed: slots after the window are cut by
    not_after_window. -#}
{% macro not_before_window(instant) -%}
    {%- set start, end = rewrite_window() -%}
    {%- if start is none -%}
        {{ instant }}
    {%- else -%}
        greatest({{ instant }}, {{ _window_instant(start - modules.datetime.timedelta(days=2)) }})
    {%- endif -%}
{%- endmacro %}

{#- An instant moved back to the run's window end (three days late: the day after and time
    zones), when the run has a window. -#}
{% macro not_after_window(instant) -%}
    {%- set start, end = rewrite_window() -%}
    {%- if end is none -%}
        {{ instant }}
    {%- else -%}
        least({{ instant }}, {{ _window_instant(end + modules.datetime.timedelta(days=3)) }})
    {%- endif -%}
{%- endmacro %}

{% macro _window_instant(day) -%}
    cast('{{ day.isoformat() }} 00:00:00+00' as timestamp with time zone)
{%- endmacro %}
