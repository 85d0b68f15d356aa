{#- Volume per site-local day, WAF direction (input, output, diversion) and category, split by
    accounting method. Every category the site file lists gets a row every day, zero when no flow
    reported under it, so a WAF table always shows its full list of sources and destinations. -#}
with

volumes as (
    select * from {{ ref('int_flow_volumes_daily') }}
),

flows as (
    select * from {{ ref('int_flows_classified') }}
    where direction in ('input', 'output', 'diversion')
),

categories as (
    select site_id, direction, waf_category, category_position
    from {{ ref('stg_site_config__waf_categories') }}
),

site_days as (
    select distinct site_id, day, month_start, is_day_closed
    from volumes
),

flow_categories as (
    select
        volumes.site_id,
        volumes.day,
        flows.direction,
        flows.waf_category,
        sum(volumes.volume_m3) as volume_m3,
        -- a measured flow's volume that VEE estimates stood in for (a gap, a spike) is
        -- estimated, not measured: the accuracy statement reports it as such
        sum(
            case
                when volumes.method = 'measured'
                    then volumes.volume_m3 - volumes.estimated_volume_m3
                else 0
            end
        ) as measured_m3,
        sum(
            case
                when volumes.method = 'estimated' then volumes.volume_m3
                when volumes.method = 'measured' then volumes.estimated_volume_m3
                else 0
            end
        ) as estimated_m3,
        sum(case when volumes.method = 'simulated' then volumes.volume_m3 else 0 end)
            as simulated_m3,
        count(*) as n_flows,
        {{ count_where("volumes.is_missing") }} as n_flows_missing
    from volumes
    inner join flows
        on volumes.site_id = flows.site_id
        and volumes.flow_id = flows.flow_id
    group by volumes.site_id, volumes.day, flows.direction, flows.waf_category
),

spine as (
    select
        site_days.site_id,
        site_days.day,
        site_days.month_start,
        site_days.is_day_closed,
        categories.direction,
        categories.waf_category,
        categories.category_position
    from site_days
    inner join categories
        on site_days.site_id = categories.site_id
    union
    -- diversions and categories a flow uses but the list lacks still appear
    select
        site_days.site_id,
        site_days.day,
        site_days.month_start,
        site_days.is_day_closed,
        flow_categories.direction,
        flow_categories.waf_category,
        null as category_position
    from site_days
    inner join flow_categories
        on site_days.site_id = flow_categories.site_id
        and site_days.day = flow_categories.day
    left join categories
        on flow_categories.site_id = categories.site_id
        and flow_categories.direction = categories.direction
        and flow_categories.waf_category = categories.waf_category
    where categories.waf_category is null
),

final as (
    select
        spine.site_id,
        spine.day,
        spine.month_start,
        spine.is_day_closed,
        spine.direction,
        spine.waf_category,
        spine.category_position,
        coalesce(flow_categories.volume_m3, 0) as volume_m3,
        coalesce(flow_categories.measured_m3, 0) as measured_m3,
        coalesce(flow_categories.estimated_m3, 0) as estimated_m3,
        coalesce(flow_categories.simulated_m3, 0) as simulated_m3,
        coalesce(flow_categories.n_flows, 0) as n_flows,
        coalesce(flow_categories.n_flows_missing, 0) as n_flows_missing
    from spine
    left join flow_categories
        on spine.site_id = flow_categories.site_id
        and spine.day = flow_categories.day
        and spine.direction = flow_categories.direction
        and spine.waf_category = flow_categories.waf_category
)

select * from final
