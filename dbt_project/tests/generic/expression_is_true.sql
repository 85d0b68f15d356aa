{#- Every row of the model satisfies `expression` (on a model rewritten per day, every row of the
    days the run rewrote when `window_day_column` is given). -#}
{% test expression_is_true(model, expression, column_name=none, window_day_column=none) %}

select *
from {{ model }}
where not ({{ expression }})
{% if window_day_column %}
    and {{ in_day_window(window_day_column) }}
{% endif %}

{% endtest %}
