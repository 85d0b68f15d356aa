{#- The partition window of a run: vars start_day / end_day (site-local days, inclusive) and
    site_id. A window run rewrites days [start_day - lookback_days, end_day + lookahead_days] of
    every model tagged `partitioned_by_day`; reading-level inputs are read a day wider on each
    side, because a day's opening storage needs the last reading of the day before and its last
    totaliser delta and closing storage need the first reading of the day after. The influence
    runs both ways: the window's readings also make the day before's closing (the lookback) and
    the day after's opening (the lookahead: a late file for a day whose next day was already built
    must rewrite that next day). Models that carry state from day to day (a mixing recursion, a
    balance) rewrite from the window's first day to their last. Unset vars mean no bound. -#}

{#- A window bound comes from `--vars`, or else from the environment (SITELEDGER_START_DAY /
    SITELEDGER_END_DAY): dbt re-parses the whole project whenever `--vars` change (~6 s on this
    project), but only the files that read an environment variable when it changes. -#}
{#- Read when a model runs, never while dbt parses: the parsed project is then the same for every
    window, and a nightly run re-parses nothing (no config depends on the window). -#}
{% macro _window_var_day(name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set value = var(name, '__from_env__') -%}
    {%- if value == '__from_env__' -%}
        {%- set value = env_var('SITELEDGER_' ~ (name | upper), '') -%}
    {%- endif -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(modules.datetime.date.fromisoformat(value | string)) }}
{%- endmacro %}

{#- (first, last) day a window run rewrites; either may be none. -#}
{% macro rewrite_window() -%}
    {%- set start = _window_var_day('start_day') -%}
    {%- set end = _window_var_day('end_day') -%}
    {%- if start is not none and end is not none and end < start -%}
        {{ exceptions.raise_compiler_error("end_day " ~ end ~ " is before start_day " ~ start) }}
    {%- endif -%}
    {%- if start is not none -%}
        {%- set start = start - modules.datetime.timedelta(days=var('lookback_days') | int) -%}
    {%- endif -%}
    {%- if end is not none -%}
        {%- set end = end + modules.datetime.timedelta(days=var('lookahead_days') | int) -%}
    {%- endif -%}
    {{ return((start, end)) }}
{%- endmacro %}

{% macro _day_literal(day) -%}
    cast('{{ day.isoformat() }}' as date)
{%- endmacro %}

{#- `column` lies in the rewrite window widened by `before` / `after` days. -#}
{% macro in_day_window(column, before=0, after=0) -%}
    {%- set start, end = rewrite_window() -%}
    {%- set clauses = [] -%}
    {%- if start is not none -%}
        {%- do clauses.append(column ~ ' >= ' ~ _day_literal(start - modules.datetime.timedelta(days=before))) -%}
    {%- endif -%}
    {%- if end is not none -%}
        {%- do clauses.append(column ~ ' <= ' ~ _day_literal(end + modules.datetime.timedelta(days=after))) -%}
    {%- endif -%}
    {{- '(' ~ (clauses | join(' and ')) ~ ')' if clauses else 'true' -}}
{%- endmacro %}

{#- `column` lies on or after the rewrite window's first day, with no end: the days a model
    that carries state forward re-derives (each later day starts from the one before it). -#}
{% macro from_window_start(column) -%}
    {%- set start = rewrite_window()[0] -%}
    {{- column ~ ' >= ' ~ _day_literal(start) if start is not none else 'true' -}}
{%- endmacro %}

{#- `column` is the run's site, when the run is for one site. -#}
{% macro in_site_window(column) -%}
    {%- set site = var('site_id', none) -%}
    {{- column ~ " = '" ~ (site | replace("'", "''")) ~ "'" if site else 'true' -}}
{%- endmacro %}

{#- Config of a model rewritten per site-local day: the `day_window` strategy below on its day
    column alone (STACK_NOTES: a composite key makes the delete near-cartesian); a one-site run
    only deletes that site's rows. -#}
{% macro partitioned_by_day_config(day_column='day') -%}
    {%- set site = var('site_id', none) -%}
    {%- set predicates = [in_site_window('site_id')] if site else [] -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'day_window',
        'unique_key': day_column,
        'incremental_predicates': predicates,
        'on_schema_change': 'fail',
        'tags': ['partitioned_by_day'],
    }) }}
{%- endmacro %}

{#- Incremental strategy `day_window`: delete+insert by day, where the days replaced are those
    the new rows hold *and* every day of the run's rewrite window. A day of the window that has
    no row any more (its readings were rolled back) is emptied instead of keeping what an earlier
    run wrote; a run without a window replaces everything. -#}
{% macro get_incremental_day_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set day = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where (
        {{ day }} in (select {{ day }} from {{ source }})
        or {{ in_day_window(day) }}
    )
    {%- for predicate in arg_dict['incremental_predicates'] or [] %}
        and {{ predicate }}
    {%- endfor %};

    insert into {{ target }} ({{ columns }})
    (
        select {{ columns }}
        from {{ source }}
    )
{%- endmacro %}
