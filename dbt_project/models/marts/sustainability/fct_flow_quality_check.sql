{#- Each flow's declared WAF quality category against what was measured on it, per site-local
    day with a measurement: lab and field results at sample points on the flow (or on the store
    it leaves) and the daily means of online TDS, pH and conductivity meters on the flow. Water
    is measured as category 3 when TDS is above the site's threshold (5 000 mg/L) or pH below
    4 or above 10 (DOMAIN: WAF category 3); conductivity stands in for TDS (x the site's EC to
    TDS factor) only where neither lab nor meter gives TDS. Only the category 3 boundary can be
    checked: TDS and pH do not tell category 1 from 2. -#}
with

flows as (
    select * from {{ ref('stg_site_config__flows') }}
    where quality_category is not null
),

points as (
    select * from {{ ref('stg_site_config__wq_sample_points') }}
),

results as (
    select * from {{ ref('fct_water_quality_results') }}
    where parameter_id in ('tds', 'ph', 'ec')
),

meters as (
    select * from {{ ref('int_water_quality_meters_daily') }}
),

settings as (
    select * from {{ ref('stg_site_config__wq_settings') }}
),

-- a point on a store samples the water every flow out of that store carries
point_flows as (
    select points.site_id, points.sample_point_id, points.flow_id
    from points
    where points.flow_id is not null
    union all
    select points.site_id, points.sample_point_id, flows.flow_id
    from points
    inner join flows
        on points.site_id = flows.site_id
        and points.node_id = flows.from_node_id
    where points.node_id is not null
),

lab_daily as (
    select
        point_flows.site_id,
        point_flows.flow_id,
        results.sample_day as day,
        max(case when results.parameter_id = 'tds' then results.value end) as lab_tds_max_mg_l,
        min(case when results.parameter_id = 'ph' then results.value end) as lab_ph_min,
        max(case when results.parameter_id = 'ph' then results.value end) as lab_ph_max,
        max(case when results.parameter_id = 'ec' then results.value end) as lab_ec_max_us_cm
    from results
    inner join point_flows
        on results.site_id = point_flows.site_id
        and results.sample_point_id = point_flows.sample_point_id
    group by point_flows.site_id, point_flows.flow_id, results.sample_day
),

days as (
    select site_id, flow_id, day from lab_daily
    union
    select site_id, flow_id, reading_day as day from meters
),

measured as (
    select
        days.site_id,
        days.flow_id,
        days.day,
        lab_daily.lab_tds_max_mg_l,
        lab_daily.lab_ph_min,
        lab_daily.lab_ph_max,
        meters.tds_mean_mg_l as meter_tds_mean_mg_l,
        meters.ph_mean as meter_ph_mean,
        meters.ec_mean_us_cm as meter_ec_mean_us_cm,
        -- greatest() and least() skip nulls: the higher (lower) of what there is
        coalesce(
            greatest(lab_daily.lab_tds_max_mg_l, meters.tds_mean_mg_l),
            greatest(lab_daily.lab_ec_max_us_cm, meters.ec_mean_us_cm) * settings.ec_to_tds_factor
        ) as tds_mg_l,
        lab_daily.lab_tds_max_mg_l is null and meters.tds_mean_mg_l is null as is_tds_from_ec,
        least(lab_daily.lab_ph_min, meters.ph_mean) as ph_min,
        greatest(lab_daily.lab_ph_max, meters.ph_mean) as ph_max,
        settings.category3_tds_mg_l,
        settings.category3_ph_low,
        settings.category3_ph_high
    from days
    inner join settings
        on days.site_id = settings.site_id
    left join lab_daily
        on days.site_id = lab_daily.site_id
        and days.flow_id = lab_daily.flow_id
        and days.day = lab_daily.day
    left join meters
        on days.site_id = meters.site_id
        and days.flow_id = meters.flow_id
        and days.day = meters.reading_day
),

final as (
    select
        measured.site_id,
        measured.flow_id,
        measured.day,
        flows.quality_category as declared_category,
        measured.lab_tds_max_mg_l,
        measured.lab_ph_min,
        measured.lab_ph_max,
        measured.meter_tds_mean_mg_l,
        measured.meter_ph_mean,
        measured.meter_ec_mean_us_cm,
        measured.tds_mg_l,
        measured.is_tds_from_ec,
        measured.ph_min,
        measured.ph_max,
        coalesce(measured.tds_mg_l > measured.category3_tds_mg_l, false)
        or coalesce(measured.ph_min < measured.category3_ph_low, false)
        or coalesce(measured.ph_max > measured.category3_ph_high, false)
            as is_measured_category3,
        measured.tds_mg_l is not null or measured.ph_min is not null as is_checked
    from measured
    inner join flows
        on measured.site_id = flows.site_id
        and measured.flow_id = flows.flow_id
),

flagged as (
    select
        *,
        is_checked and (declared_category = 3) <> is_measured_category3 as is_mismatch,
        case
            when not is_checked then null
            when declared_category <> 3 and is_measured_category3 then 'measured_category3'
            when declared_category = 3 and not is_measured_category3 then 'measured_below_category3'
        end as mismatch
    from final
)

select * from flagged
