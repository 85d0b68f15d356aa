{#- The site water balance per site-local day in the WAF input-output model: inputs by source,
    outputs by destination, diversions, change in storage, closure error, reuse and recycling,
    water intensity and the accuracy statement. -#}
with

sites as (
    select * from {{ ref('int_sites_enriched') }}
),

categories as (
    select * from {{ ref('int_water_by_category_daily') }}
),

volumes as (
    select * from {{ ref('int_flow_volumes_daily') }}
),

flows as (
    select * from {{ ref('int_flows_classified') }}
),

storage as (
    select * from {{ ref('int_store_storage_daily') }}
),

ore as (
    select * from {{ ref('int_ore_feed_daily') }}
),

-- VEE: how much of the day's meter data is estimated (missing or invalid readings replaced)
vee as (
    select site_id, day, n_expected, n_estimated
    from {{ ref('int_quality_counts_daily') }}
    where scope = 'site'
),

water as (
    select
        site_id,
        day,
        month_start,
        is_day_closed,
        sum(case when direction = 'input' then volume_m3 else 0 end) as inputs_m3,
        {% for category in waf_input_sources() -%}
        sum(
            case when direction = 'input' and waf_category = '{{ category }}'
                then volume_m3 else 0 end
        ) as input_{{ category }}_m3,
        {% endfor -%}
        sum(case when direction = 'output' then volume_m3 else 0 end) as outputs_m3,
        {% for category in waf_output_destinations() -%}
        sum(
            case when direction = 'output' and waf_category = '{{ category }}'
                then volume_m3 else 0 end
        ) as output_{{ category }}_m3,
        {% endfor -%}
        sum(case when direction = 'diversion' then volume_m3 else 0 end) as diversions_m3,
        {% for method in accounting_methods() -%}
        sum(case when direction = 'input' then {{ method }}_m3 else 0 end)
            as input_{{ method }}_m3,
        sum(case when direction = 'output' then {{ method }}_m3 else 0 end)
            as output_{{ method }}_m3,
        {% endfor -%}
        cast(sum(
            case when direction in ('input', 'output') then n_flows_missing else 0 end
        ) as bigint) as n_flows_missing
    from categories
    group by site_id, day, month_start, is_day_closed
),

site_storage as (
    select
        site_id,
        day,
        -- one store without a level makes the site's storage unknown, not smaller
        case
            when count(opening_storage_m3) = count(*) then sum(opening_storage_m3)
        end as opening_storage_m3,
        case
            when count(closing_storage_m3) = count(*) then sum(closing_storage_m3)
        end as closing_storage_m3,
        count(*) - count(storage_change_m3) as n_stores_missing_storage
    from storage
    group by site_id, day
),

task_feed as (
    select
        volumes.site_id,
        volumes.day,
        sum(volumes.volume_m3) as task_feed_m3,
        sum(case when flows.water_state = 'raw' then volumes.volume_m3 else 0 end)
            as task_feed_raw_m3,
        sum(case when flows.water_state = 'worked' then volumes.volume_m3 else 0 end)
            as task_feed_worked_m3,
        sum(case when flows.water_state = 'treated' then volumes.volume_m3 else 0 end)
            as task_feed_treated_m3
    from volumes
    inner join flows
        on volumes.site_id = flows.site_id
        and volumes.flow_id = flows.flow_id
    where flows.to_node_kind = 'task'
    group by volumes.site_id, volumes.day
),

joined as (
    select
        water.*,
        -- a site without stores holds nothing: its storage is zero, not unknown
        case
            when site_storage.site_id is null then 0 else site_storage.opening_storage_m3
        end as opening_storage_m3,
        case
            when site_storage.site_id is null then 0 else site_storage.closing_storage_m3
        end as closing_storage_m3,
        coalesce(site_storage.n_stores_missing_storage, 0) as n_stores_missing_storage,
        sites.closure_threshold_pct,
        coalesce(task_feed.task_feed_m3, 0) as task_feed_m3,
        coalesce(task_feed.task_feed_raw_m3, 0) as task_feed_raw_m3,
        coalesce(task_feed.task_feed_worked_m3, 0) as task_feed_worked_m3,
        coalesce(task_feed.task_feed_treated_m3, 0) as task_feed_treated_m3,
        ore.ore_feed_t,
        100.0 * {{ safe_divide('vee.n_estimated', 'vee.n_expected') }} as readings_estimated_pct
    from water
    inner join sites
        on water.site_id = sites.site_id
    left join site_storage
        on water.site_id = site_storage.site_id
        and water.day = site_storage.day
    left join task_feed
        on water.site_id = task_feed.site_id
        and water.day = task_feed.day
    left join ore
        on water.site_id = ore.site_id
        and water.day = ore.day
    left join vee
        on water.site_id = vee.site_id
        and water.day = vee.day
),

with_change as (
    select
        joined.*,
        closing_storage_m3 - opening_storage_m3 as storage_change_m3
    from joined
),

closure as (
    select
        with_change.*,
        inputs_m3 - outputs_m3 - storage_change_m3 as closure_error_m3,
        100.0 * {{ safe_divide('inputs_m3 - outputs_m3 - storage_change_m3', 'inputs_m3') }}
            as closure_error_pct
    from with_change
),

final as (
    select
        site_id,
        day,
        month_start,
        {{ site_balance_measures() }}
        n_flows_missing,
        n_stores_missing_storage,
        readings_estimated_pct,
        is_day_closed,
        n_flows_missing = 0 and storage_change_m3 is not null and is_day_closed as is_complete
    from closure
)

select * from final
