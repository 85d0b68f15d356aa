{#- Site-local time. Readings are stamped in UTC; a site day is a local day (SPEC §3), so every
    day boundary is local midnight converted to UTC through the site's IANA time zone. -#}

{% macro utc_to_local(ts_utc, timezone) -%}
    {{ return(adapter.dispatch('utc_to_local')(ts_utc, timezone)) }}
{%- endmacro %}

{% macro duckdb__utc_to_local(ts_utc, timezone) -%}
    timezone({{ timezone }}, {{ ts_utc }})
{%- endmacro %}

{% macro postgres__utc_to_local(ts_utc, timezone) -%}
    timezone({{ timezone }}, cast({{ ts_utc }} as timestamptz))
{%- endmacro %}

{% macro local_to_utc(local_ts, timezone) -%}
    {{ return(adapter.dispatch('local_to_utc')(local_ts, timezone)) }}
{%- endmacro %}

{% macro duckdb__local_to_utc(local_ts, timezone) -%}
    timezone({{ timezone }}, cast({{ local_ts }} as timestamp))
{%- endmacro %}

{% macro postgres__local_to_utc(local_ts, timezone) -%}
    timezone({{ timezone }}, cast({{ local_ts }} as timestamp))
{%- endmacro %}

{#- Seconds since the Unix epoch, as a double: time interpolation across day boundaries. -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds')(ts)) }}
{%- endmacro %}

{% macro duckdb__epoch_seconds(ts) -%}
    epoch({{ ts }})
{%- endmacro %}

{% macro postgres__epoch_seconds(ts) -%}
    cast(extract(epoch from {{ ts }}) as double precision)
{%- endmacro %}

{% macro add_days(day, n) -%}
    cast({{ dbt.dateadd('day', n, day) }} as date)
{%- endmacro %}

{% macro month_start(day) -%}
    cast({{ dbt.date_trunc('month', day) }} as date)
{%- endmacro %}

{% macro days_in_month(day) -%}
    cast(extract(day from {{ dbt.last_day(day, 'month') }}) as integer)
{%- endmacro %}

{#- Every day from first_day to last_day inclusive, as a set-returning select-list expression
    (one output row per day for each input row). -#}
{% macro unnest_days(first_day, last_day) -%}
    {{ return(adapter.dispatch('unnest_days')(first_day, last_day)) }}
{%- endmacro %}

{% macro duckdb__unnest_days(first_day, last_day) -%}
    cast(unnest(generate_series(
        cast({{ first_day }} as timestamp), cast({{ last_day }} as timestamp), interval '1 day'
    )) as date)
{%- endmacro %}

{% macro postgres__unnest_days(first_day, last_day) -%}
    cast(generate_series(
        cast({{ first_day }} as timestamp), cast({{ last_day }} as timestamp), interval '1 day'
    ) as date)
{%- endmacro %}

{#- Days since 1970-01-01: an integer a window can range over in calendar days, gaps included. -#}
{% macro day_number(day) -%}
    {{ dbt.datediff("cast('1970-01-01' as date)", day, 'day') }}
{%- endmacro %}

{#- An interval of `seconds` (an integer expression). -#}
{% macro seconds_interval(seconds) -%}
    {{ return(adapter.dispatch('seconds_interval')(seconds)) }}
{%- endmacro %}

{% macro duckdb__seconds_interval(seconds) -%}
    to_seconds({{ seconds }})
{%- endmacro %}

{% macro postgres__seconds_interval(seconds) -%}
    make_interval(secs => {{ seconds }})
{%- endmacro %}

{#- A from-item of every instant from `first` to `last` by `step` (an interval), one row each,
    as `alias(column)`; `first` and `last` may name columns of the tables joined before it. -#}
{% macro instant_series(first, last, step, alias, column) -%}
    {{ return(adapter.dispatch('instant_series')(first, last, step, alias, column)) }}
{%- endmacro %}

{% macro duckdb__instant_series(first, last, step, alias, column) -%}
    unnest(generate_series({{ first }}, {{ last }}, {{ step }})) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro postgres__instant_series(first, last, step, alias, column) -%}
    lateral generate_series({{ first }}, {{ last }}, {{ step }}) as {{ alias }} ({{ column }})
{%- endmacro %}
