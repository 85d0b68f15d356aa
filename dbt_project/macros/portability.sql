{#- Functions the models call that an engine lacks in the form DuckDB has them, created before
    every run on that engine (`on-run-start` in dbt_project.yml). DuckDB needs none. -#}
{% macro portability_functions() -%}
    {{ return(adapter.dispatch('portability_functions')()) }}
{%- endmacro %}

{% macro default__portability_functions() -%}
{%- endmacro %}

{#- PostgreSQL rounds only numeric to a number of places, and takes `%` of integers and numeric
    only; DuckDB does both on a double and keeps it a double (the text of a rounded 1.50 is
    '1.5' on both). -#}
{% macro postgres__portability_functions() -%}
    create or replace function {{ target.schema }}.round(value double precision, places integer)
    returns double precision
    language sql immutable strict parallel safe
    as $$ select cast(round(cast(value as numeric), places) as double precision) $$;

    {#- `%` of a double by an integer, with the dividend's sign (DuckDB's fmod) -#}
    create or replace function {{ target.schema }}.double_remainder(
        dividend double precision, divisor integer
    )
    returns double precision
    language sql immutable strict parallel safe
    as $$ select dividend - divisor * trunc(dividend / divisor) $$;

    do $$
    begin
        if not exists (
            select 1 from pg_operator
            where oprname = '%'
                and oprleft = 'double precision'::regtype
                and oprright = 'integer'::regtype
        ) then
            create operator {{ target.schema }}.% (
                leftarg = double precision,
                rightarg = integer,
                function = {{ target.schema }}.double_remainder
            );
        end if;
    end
    $$
{%- endmacro %}

{#- Session settings every model builds under (a pre-hook of every model in dbt_project.yml);
    none on DuckDB. -#}
{% macro engine_model_settings() -%}
    {{ return(adapter.dispatch('engine_model_settings')()) }}
{%- endmacro %}

{% macro default__engine_model_settings() -%}
{%- endmacro %}

{#- PostgreSQL: the models are whole-table analytics on tables without indexes, joined through
    CTEs whose row counts the planner cannot estimate (it took the redundancy partners' 90 k
    readings for 1 and compared them pairwise: minutes instead of a second). Hash and merge
    joins only, for the model's own transaction. -#}
{% macro postgres__engine_model_settings() -%}
    set local enable_nestloop = off
{%- endmacro %}

{#- A double as text the way DuckDB writes it (shortest form that reads back; a whole number
    keeps one decimal, 1800.0): the figures in flag and alert details read the same on every
    engine. -#}
{% macro number_text(value) -%}
    {{ return(adapter.dispatch('number_text')(value)) }}
{%- endmacro %}

{% macro default__number_text(value) -%}
    cast({{ value }} as varchar)
{%- endmacro %}

{% macro postgres__number_text(value) -%}
    case
        when cast({{ value }} as double precision) = trunc(cast({{ value }} as double precision))
            and abs(cast({{ value }} as double precision)) < 1e15
            then cast(cast({{ value }} as double precision) as text) || '.0'
        else cast(cast({{ value }} as double precision) as text)
    end
{%- endmacro %}
