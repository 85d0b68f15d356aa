{#- Consolidation of site balances into organisations and regions (organisation -> region ->
    site), in ML. Every volume is the sum of the sites' (each site's months are its own local
    months); ratios, closure % and status are recomputed from the sums. -#}

{#- The aggregates of a group of site rows of fct_site_balance_period (volumes to ML). -#}
{% macro consolidated_sums() -%}
        count(*) as n_sites,
        {{ count_where('is_complete') }} as n_sites_complete,
        min(first_day) as first_day,
        max(last_day) as last_day,
        sum(inputs_m3) / 1000.0 as inputs_ml,
        {% for category in waf_input_sources() -%}
        sum(input_{{ category }}_m3) / 1000.0 as input_{{ category }}_ml,
        {% endfor -%}
        sum(outputs_m3) / 1000.0 as outputs_ml,
        {% for category in waf_output_destinations() -%}
        sum(output_{{ category }}_m3) / 1000.0 as output_{{ category }}_ml,
        {% endfor -%}
        sum(diversions_m3) / 1000.0 as diversions_ml,
        sum(opening_storage_m3) / 1000.0 as opening_storage_ml,
        sum(closing_storage_m3) / 1000.0 as closing_storage_ml,
        sum(storage_change_m3) / 1000.0 as storage_change_ml,
        sum(closure_error_m3) / 1000.0 as closure_error_ml,
        -- no organisation-wide threshold is configured: the strictest of its sites' applies
        min(closure_threshold_pct) as closure_threshold_pct,
        sum(task_feed_m3) / 1000.0 as task_feed_ml,
        sum(task_feed_raw_m3) / 1000.0 as task_feed_raw_ml,
        sum(task_feed_worked_m3) / 1000.0 as reused_ml,
        sum(task_feed_treated_m3) / 1000.0 as recycled_ml,
        sum(ore_feed_t) as ore_feed_t,
        {% for method in accounting_methods() -%}
        sum(input_{{ method }}_m3) / 1000.0 as input_{{ method }}_ml,
        sum(output_{{ method }}_m3) / 1000.0 as output_{{ method }}_ml,
        {% endfor -%}
        cast(sum(n_days_incomplete) as bigint) as n_site_days_incomplete,
        cast(sum(n_flows_missing) as bigint) as n_flows_missing
{%- endmacro %}

{#- Site rows of `site_periods` summed per organisation (scope `organisation`) and per region
    of an organisation (scope `region`; sites without a region form the region `unassigned`).
    `period_columns` are the columns that identify the period. -#}
{% macro consolidate_sites(site_periods, period_columns) -%}
    select
        'organisation' as scope,
        organisation,
        organisation as scope_id,
        max(organisation_name) as scope_name,
        {{ period_columns | join(', ') }},
        {{ consolidated_sums() }}
    from {{ site_periods }}
    group by organisation, {{ period_columns | join(', ') }}
    union all
    select
        'region' as scope,
        organisation,
        region as scope_id,
        max(region_name) as scope_name,
        {{ period_columns | join(', ') }},
        {{ consolidated_sums() }}
    from {{ site_periods }}
    group by organisation, region, {{ period_columns | join(', ') }}
{%- endmacro %}

{#- The measures recomputed from the consolidated sums (a CTE of consolidate_sites). -#}
{% macro consolidated_measures() -%}
        inputs_ml,
        {% for category in waf_input_sources() -%}
        input_{{ category }}_ml,
        {% endfor -%}
        outputs_ml,
        {% for category in waf_output_destinations() -%}
        output_{{ category }}_ml,
        {% endfor -%}
        diversions_ml,
        opening_storage_ml,
        closing_storage_ml,
        storage_change_ml,
        closure_error_ml,
        100.0 * {{ safe_divide('closure_error_ml', 'inputs_ml') }} as closure_error_pct,
        closure_threshold_pct,
        {{ threshold_status('100.0 * ' ~ safe_divide('closure_error_ml', 'inputs_ml'),
            'closure_threshold_pct') }} as closure_status,
        task_feed_ml,
        task_feed_raw_ml,
        reused_ml,
        recycled_ml,
        {{ safe_divide('reused_ml', 'task_feed_ml') }} as reuse_ratio,
        {{ safe_divide('reused_ml + recycled_ml', 'task_feed_ml') }} as recycling_ratio,
        ore_feed_t,
        {{ safe_divide('1000.0 * inputs_ml', 'ore_feed_t') }} as water_intensity_m3_per_t,
        {% for method in accounting_methods() -%}
        input_{{ method }}_ml,
        100.0 * {{ safe_divide('input_' ~ method ~ '_ml', 'inputs_ml') }} as input_{{ method }}_pct,
        output_{{ method }}_ml,
        100.0 * {{ safe_divide('output_' ~ method ~ '_ml', 'outputs_ml') }} as output_{{ method }}_pct,
        {% endfor -%}
        n_site_days_incomplete,
        n_flows_missing
{%- endmacro %}

{#- Rank of `metric` among the rows of `partition` (1 = best; `order` asc when smaller is
    better); rows without the metric get no rank and do not take one. -#}
{% macro rank_within(metric, partition, order='asc') -%}
    case
        when {{ metric }} is not null
            then rank() over (
                partition by {{ partition | join(', ') }}, {{ metric }} is null
                order by {{ metric }} {{ order }}
            )
    end
{%- endmacro %}
