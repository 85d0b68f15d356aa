{#- The site water balance per calendar month (site-local): the daily balance summed, with the
    change in storage taken between the month's first opening and last closing. -#}
with

daily as (
    select * from {{ ref('fct_site_balance_daily') }}
),

months as (
    select
        site_id,
        month_start,
        min(day) as first_day,
        max(day) as last_day,
        count(*) as n_days,
        {{ count_where('not is_complete') }} as n_days_incomplete,
        sum(inputs_m3) as inputs_m3,
        {% for category in waf_input_sources() -%}
        sum(input_{{ category }}_m3) as input_{{ category }}_m3,
        {% endfor -%}
        sum(outputs_m3) as outputs_m3,
        {% for category in waf_output_destinations() -%}
        sum(output_{{ category }}_m3) as output_{{ category }}_m3,
        {% endfor -%}
        sum(diversions_m3) as diversions_m3,
        max(closure_threshold_pct) as closure_threshold_pct,
        sum(task_feed_m3) as task_feed_m3,
        sum(task_feed_raw_m3) as task_feed_raw_m3,
        sum(task_feed_worked_m3) as task_feed_worked_m3,
        sum(task_feed_treated_m3) as task_feed_treated_m3,
        sum(ore_feed_t) as ore_feed_t,
        {% for method in accounting_methods() -%}
        sum(input_{{ method }}_m3) as input_{{ method }}_m3,
        sum(output_{{ method }}_m3) as output_{{ method }}_m3,
        {% endfor -%}
        cast(sum(n_flows_missing) as bigint) as n_flows_missing
    from daily
    group by site_id, month_start
),

with_storage as (
    select
        months.*,
        first_day.opening_storage_m3,
        last_day.closing_storage_m3,
        last_day.closing_storage_m3 - first_day.opening_storage_m3 as storage_change_m3
    from months
    inner join daily as first_day
        on months.site_id = first_day.site_id
        and months.first_day = first_day.day
    inner join daily as last_day
        on months.site_id = last_day.site_id
        and months.last_day = last_day.day
),

closure as (
    select
        with_storage.*,
        inputs_m3 - outputs_m3 - storage_change_m3 as closure_error_m3,
        100.0 * {{ safe_divide('inputs_m3 - outputs_m3 - storage_change_m3', 'inputs_m3') }}
            as closure_error_pct
    from with_storage
),

final as (
    select
        site_id,
        month_start,
        first_day,
        last_day,
        n_days,
        n_days_incomplete,
        {{ site_balance_measures() }}
        n_flows_missing
    from closure
)

select * from final
