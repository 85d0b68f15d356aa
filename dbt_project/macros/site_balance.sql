{#- The measures a site balance reports for any period, from the period's sums (inputs and
    outputs by WAF category, storage, closure error and its status against the threshold, reuse and
    recycling, water intensity, accuracy statement): one definition for the daily and the monthly
    mart. Expects the columns of the `closure` CTE of those models. -#}
{% macro site_balance_measures() %}
        inputs_m3,
        {% for category in waf_input_sources() -%}
        input_{{ category }}_m3,
        {% endfor -%}
        outputs_m3,
        {% for category in waf_output_destinations() -%}
        output_{{ category }}_m3,
        {% endfor -%}
        diversions_m3,
        opening_storage_m3,
        closing_storage_m3,
        storage_change_m3,
        closure_error_m3,
        closure_error_pct,
        closure_threshold_pct,
        {{ threshold_status('closure_error_pct', 'closure_threshold_pct') }} as closure_status,
        task_feed_m3,
        task_feed_raw_m3,
        task_feed_worked_m3,
        task_feed_treated_m3,
        task_feed_worked_m3 as reused_m3,
        task_feed_treated_m3 as recycled_m3,
        {{ safe_divide('task_feed_worked_m3', 'task_feed_m3') }} as reuse_ratio,
        {{ safe_divide('task_feed_worked_m3 + task_feed_treated_m3', 'task_feed_m3') }}
            as recycling_ratio,
        ore_feed_t,
        {{ safe_divide('inputs_m3', 'ore_feed_t') }} as water_intensity_m3_per_t,
        {% for method in accounting_methods() -%}
        input_{{ method }}_m3,
        100.0 * {{ safe_divide('input_' ~ method ~ '_m3', 'inputs_m3') }} as input_{{ method }}_pct,
        output_{{ method }}_m3,
        100.0 * {{ safe_divide('output_' ~ method ~ '_m3', 'outputs_m3') }} as output_{{ method }}_pct,
        {% endfor -%}
{%- endmacro %}

{#- Status of a balance error (% of inflows) against its threshold (%): one rule for sites and
    nodes, daily and monthly. No inflow, so no %: undetermined. -#}
{% macro threshold_status(error_pct, threshold_pct) -%}
    case
        when {{ error_pct }} is null then 'undetermined'
        when abs({{ error_pct }}) <= {{ threshold_pct }} then 'within_threshold'
        else 'exceeds_threshold'
    end
{%- endmacro %}

{#- A node's balance error, inflow - outflow - change in storage, in m3 and % of its inflow. -#}
{% macro node_balance_error() -%}
        inflow_m3 - outflow_m3 - storage_change_m3 as balance_error_m3,
        100.0 * {{ safe_divide('inflow_m3 - outflow_m3 - storage_change_m3', 'inflow_m3') }}
            as balance_error_pct
{%- endmacro %}
