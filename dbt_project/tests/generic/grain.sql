{#- The model has one row per combination of `columns`, and none of them is null: the grain the
    model's description declares. On a model rewritten per day, `window_day_column` limits the
    check to the days the run rewrote (a year of readings costs seconds to regroup).
    Two passes: the rows are first grouped by one 64-bit hash of their key, which is cheap at any
    size (a hundred million hourly rows); only keys whose hash repeats are then grouped by the
    columns themselves, so a hash collision is never reported as a duplicate. Failing rows: each
    repeated key with its count, and each key with a null column. -#}
{% test grain(model, columns, window_day_column=none) %}
{%- set key = columns | join(', ') -%}
{%- set scope -%}
    {%- if window_day_column %}where {{ in_day_window(window_day_column) }}{% else %}where true{% endif -%}
{%- endset %}

with

repeated_hashes as (
    select hash({{ key }}) as key_hash
    from {{ model }}
    {{ scope }}
    group by 1
    having count(*) > 1
),

repeated_keys as (
    select
        {{ key }},
        count(*) as n_rows
    from {{ model }}
    {{ scope }}
        and hash({{ key }}) in (select key_hash from repeated_hashes)
    group by {{ key }}
    having count(*) > 1
),

null_keys as (
    select
        {{ key }},
        count(*) as n_rows
    from {{ model }}
    {{ scope }}
        and ({% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %})
    group by {{ key }}
)

select * from repeated_keys
union all
select * from null_keys

{% endtest %}
