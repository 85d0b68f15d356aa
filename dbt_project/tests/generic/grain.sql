{#- The model has one row per combination of `columns`, and none of them is null: the grain the
    model's description declares. On a model rewritten per day, `window_day_column` limits the
    check to the days the run rewrote (a year of readings costs seconds to regroup). -#}
{% test grain(model, columns, window_day_column=none) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
{% if window_day_column %}
where {{ in_day_window(window_day_column) }}
{% endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
    or {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}

{% endtest %}
