{#- Every non-null combination of `columns` in the model exists as `to_columns` in `to`: the
    multi-column form of dbt's `relationships` (ids are unique within a site, not across sites). -#}
{% test relationships_by(model, columns, to, to_columns) %}

with

child as (
    select distinct {{ columns | join(', ') }}
    from {{ model }}
    where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
),

parent as (
    select distinct {{ to_columns | join(', ') }}
    from {{ to }}
)

select child.*
from child
left join parent
    on {% for column in columns %}child.{{ column }} = parent.{{ to_columns[loop.index0] }}{% if not loop.last %} and {% endif %}{% endfor %}
where parent.{{ to_columns[0] }} is null

{% endtest %}
