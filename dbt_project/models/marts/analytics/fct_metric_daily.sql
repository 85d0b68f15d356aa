{#- Every daily metric of every site, store, flow, energy asset and material in one long table
    (site, scope, scope id, metric, day): what the forecasts, anomaly checks and trends read. A
    metric with no known value on a day has no row that day. -#}
with

node_balance as (
    select * from {{ ref('fct_node_balance_daily') }}
    where node_kind = 'store'
),

store_levels as (
    select * from {{ ref('fct_store_levels_daily') }}
),

storage as (
    select * from {{ ref('int_store_storage_daily') }}
),

site_balance as (
    select * from {{ ref('fct_site_balance_daily') }}
),

volumes as (
    select * from {{ ref('int_flow_volumes_daily') }}
),

flows as (
    select * from {{ ref('int_flows_classified') }}
),

site_days as (
    select site_id, day, is_closed from {{ ref('int_site_days') }}
),

generators as (
    select * from {{ ref('fct_generator_daily') }}
),

solar as (
    select * from {{ ref('fct_solar_daily') }}
),

loads as (
    select * from {{ ref('fct_load_daily') }}
),

energy_sites as (
    select
        energy_site.*,
        fuel.fuel_l,
        settings.currency
    from {{ ref('fct_energy_site_daily') }} as energy_site
    left join (
        select site_id, day, sum(fuel_l) as fuel_l
        from generators
        group by site_id, day
    ) as fuel
        on energy_site.site_id = fuel.site_id
        and energy_site.day = fuel.day
    left join {{ ref('stg_site_config__energy_settings') }} as settings
        on energy_site.site_id = settings.site_id
),

material_days as (
    select * from {{ ref('fct_material_inventory_daily') }}
),

material_settings as (
    select site_id, material_id, unit from {{ ref('stg_site_config__materials') }}
),

material_sites as (
    select site_id, currency from {{ ref('int_material_sites') }}
),

-- each material's day: the quantity issued (to batches and jobs; waste and returns are not
-- demand) and the FIFO cost per unit of the stock held at the day's end. The marts' last day
-- (the day of the last movement) may still take movements: it is not closed.
materials as (
    select
        material_days.site_id,
        material_days.material_id,
        material_days.day,
        cast(material_days.issued_qty as double precision) as issued_qty,
        case
            when material_days.on_hand_qty > 0
                then cast(material_days.on_hand_value as double precision)
                / cast(material_days.on_hand_qty as double precision)
        end as unit_cost,
        coalesce(material_settings.unit, '') as unit,
        coalesce(material_sites.currency, '') || '/' || coalesce(material_settings.unit, '')
            as cost_unit,
        material_days.day < max(material_days.day) over (partition by material_days.site_id)
            as is_day_closed
    from material_days
    left join material_settings
        on material_days.site_id = material_settings.site_id
        and material_days.material_id = material_settings.material_id
    left join material_sites
        on material_days.site_id = material_sites.site_id
),

weather_totals as (
    select * from {{ ref('int_meter_totals_daily') }}
    where measurand in ('rainfall', 'evaporation_pan')
),

-- a flow-day rests on estimates when its method is not measurement, or when VEE estimates
-- stood in for part of its metered volume
flow_days as (
    select
        volumes.site_id,
        volumes.flow_id,
        volumes.day,
        volumes.is_day_closed,
        volumes.volume_m3,
        flows.from_node_id,
        flows.to_node_id,
        flows.to_node_kind,
        flows.flow_role,
        volumes.method in ('estimated', 'simulated') or volumes.estimated_volume_m3 > 0
            as is_estimated
    from volumes
    inner join flows
        on volumes.site_id = flows.site_id
        and volumes.flow_id = flows.flow_id
),

node_inflows_estimated as (
    select
        site_id,
        to_node_id as node_id,
        day,
        {{ count_where('is_estimated') }} > 0 as is_inflow_estimated,
        {{ count_where("is_estimated and flow_role = 'rainfall'") }} > 0
            as is_rainfall_estimated
    from flow_days
    group by site_id, to_node_id, day
),

node_outflows_estimated as (
    select
        site_id,
        from_node_id as node_id,
        day,
        {{ count_where('is_estimated') }} > 0 as is_outflow_estimated,
        {{ count_where("is_estimated and flow_role = 'evaporation'") }} > 0
            as is_evaporation_estimated,
        {{ count_where("is_estimated and flow_role = 'seepage'") }} > 0
            as is_seepage_estimated
    from flow_days
    group by site_id, from_node_id, day
),

task_feed_estimated as (
    select
        site_id,
        day,
        {{ count_where('is_estimated') }} > 0 as is_demand_estimated
    from flow_days
    where to_node_kind = 'task'
    group by site_id, day
),

stores as (
    select
        node_balance.site_id,
        node_balance.node_id,
        node_balance.day,
        node_balance.is_day_closed,
        node_balance.closing_storage_m3,
        store_levels.fill_pct,
        node_balance.inflow_m3,
        node_balance.outflow_m3,
        node_balance.rainfall_m3,
        node_balance.evaporation_m3,
        node_balance.seepage_m3,
        -- a closing level carried from a reading away from midnight, not read or interpolated
        coalesce(
            storage.closing_level_source like '%carried%', false
        ) as is_storage_estimated,
        coalesce(node_inflows_estimated.is_inflow_estimated, false) as is_inflow_estimated,
        coalesce(node_inflows_estimated.is_rainfall_estimated, false) as is_rainfall_estimated,
        coalesce(node_outflows_estimated.is_outflow_estimated, false) as is_outflow_estimated,
        coalesce(node_outflows_estimated.is_evaporation_estimated, false)
            as is_evaporation_estimated,
        coalesce(node_outflows_estimated.is_seepage_estimated, false) as is_seepage_estimated
    from node_balance
    inner join store_levels
        on node_balance.site_id = store_levels.site_id
        and node_balance.node_id = store_levels.node_id
        and node_balance.day = store_levels.day
    left join storage
        on node_balance.site_id = storage.site_id
        and node_balance.node_id = storage.node_id
        and node_balance.day = storage.day
    left join node_inflows_estimated
        on node_balance.site_id = node_inflows_estimated.site_id
        and node_balance.node_id = node_inflows_estimated.node_id
        and node_balance.day = node_inflows_estimated.day
    left join node_outflows_estimated
        on node_balance.site_id = node_outflows_estimated.site_id
        and node_balance.node_id = node_outflows_estimated.node_id
        and node_balance.day = node_outflows_estimated.day
),

weather as (
    select
        site_id,
        day,
        avg(case when measurand = 'rainfall' then total_value end) as rain_mm,
        avg(case when measurand = 'evaporation_pan' then total_value end) as pan_evaporation_mm
    from weather_totals
    group by site_id, day
),

sites as (
    select
        site_balance.site_id,
        site_balance.day,
        site_balance.is_day_closed,
        site_balance.task_feed_m3 as demand_m3,
        site_balance.inputs_m3,
        site_balance.outputs_m3,
        site_balance.ore_feed_t,
        site_balance.water_intensity_m3_per_t,
        weather.rain_mm,
        weather.pan_evaporation_mm,
        coalesce(task_feed_estimated.is_demand_estimated, false) as is_demand_estimated,
        site_balance.input_estimated_m3 + site_balance.input_simulated_m3 > 0
            as is_inputs_estimated,
        site_balance.output_estimated_m3 + site_balance.output_simulated_m3 > 0
            as is_outputs_estimated
    from site_balance
    left join weather
        on site_balance.site_id = weather.site_id
        and site_balance.day = weather.day
    left join task_feed_estimated
        on site_balance.site_id = task_feed_estimated.site_id
        and site_balance.day = task_feed_estimated.day
),

{%- set node_metrics = [
    ('closing_storage_m3', 'm3', 'last', 'is_storage_estimated'),
    ('fill_pct', 'pct', 'mean', 'is_storage_estimated'),
    ('inflow_m3', 'm3', 'sum', 'is_inflow_estimated'),
    ('outflow_m3', 'm3', 'sum', 'is_outflow_estimated'),
    ('rainfall_m3', 'm3', 'sum', 'is_rainfall_estimated'),
    ('evaporation_m3', 'm3', 'sum', 'is_evaporation_estimated'),
    ('seepage_m3', 'm3', 'sum', 'is_seepage_estimated'),
] %}
{%- set site_metrics = [
    ('demand_m3', 'm3', 'sum', 'is_demand_estimated'),
    ('inputs_m3', 'm3', 'sum', 'is_inputs_estimated'),
    ('outputs_m3', 'm3', 'sum', 'is_outputs_estimated'),
    ('rain_mm', 'mm', 'sum', 'false'),
    ('pan_evaporation_mm', 'mm', 'sum', 'false'),
    ('ore_t', 't', 'sum', 'false'),
    ('water_intensity_m3_per_t', 'm3/t', 'mean', 'is_inputs_estimated'),
] %}

{#- (scope, relation, its id column, metric, column, unit expression, aggregation) -#}
{%- set energy_metrics = [
    ('generator', 'generators', 'generator_id', 'energy_kwh', 'energy_kwh', "'kWh'", 'sum'),
    ('generator', 'generators', 'generator_id', 'fuel_l', 'fuel_l', "'L'", 'sum'),
    ('generator', 'generators', 'generator_id', 'efficiency_ratio', 'efficiency_ratio',
        "'ratio'", 'mean'),
    ('pv_array', 'solar', 'array_id', 'solar_kwh', 'energy_kwh', "'kWh'", 'sum'),
    ('pv_array', 'solar', 'array_id', 'performance_index', 'performance_index', "'ratio'",
        'mean'),
    ('load', 'loads', 'load_id', 'energy_kwh', 'energy_kwh', "'kWh'", 'sum'),
    ('load', 'loads', 'load_id', 'peak_kw', 'peak_kw', "'kW'", 'max'),
    ('site', 'energy_sites', 'site_id', 'generator_kwh', 'generator_kwh', "'kWh'", 'sum'),
    ('site', 'energy_sites', 'site_id', 'grid_kwh', 'grid_kwh', "'kWh'", 'sum'),
    ('site', 'energy_sites', 'site_id', 'solar_kwh', 'solar_kwh', "'kWh'", 'sum'),
    ('site', 'energy_sites', 'site_id', 'load_kwh', 'load_kwh', "'kWh'", 'sum'),
    ('site', 'energy_sites', 'site_id', 'fuel_l', 'fuel_l', "'L'", 'sum'),
    ('site', 'energy_sites', 'site_id', 'energy_cost', 'total_cost', 'energy_sites.currency',
        'sum'),
    ('site', 'energy_sites', 'site_id', 'energy_co2e_kg', 'co2e_kg', "'kg'", 'sum'),
] %}

metrics as (
    {% for metric, unit, aggregation, estimated in node_metrics %}
    select
        site_id,
        'node' as scope,
        node_id as scope_id,
        '{{ metric }}' as metric,
        day,
        cast({{ metric }} as double precision) as value,
        '{{ unit }}' as unit,
        '{{ aggregation }}' as aggregation,
        is_day_closed,
        {{ estimated }} as is_estimated
    from stores
    union all
    {% endfor %}
    select
        site_id,
        'flow' as scope,
        flow_id as scope_id,
        'volume_m3' as metric,
        day,
        cast(volume_m3 as double precision) as value,
        'm3' as unit,
        'sum' as aggregation,
        is_day_closed,
        is_estimated
    from flow_days
    {% for metric, unit, aggregation, estimated in site_metrics %}
    union all
    select
        site_id,
        'site' as scope,
        site_id as scope_id,
        '{{ metric }}' as metric,
        day,
        cast({{ 'ore_feed_t' if metric == 'ore_t' else metric }} as double precision) as value,
        '{{ unit }}' as unit,
        '{{ aggregation }}' as aggregation,
        is_day_closed,
        {{ estimated }} as is_estimated
    from sites
    {% endfor %}
    {%- for scope, relation, id_column, metric, column, unit, aggregation in energy_metrics %}
    union all
    select
        {{ relation }}.site_id,
        '{{ scope }}' as scope,
        {{ relation }}.{{ id_column }} as scope_id,
        '{{ metric }}' as metric,
        {{ relation }}.day,
        cast({{ relation }}.{{ column }} as double precision) as value,
        {{ unit }} as unit,
        '{{ aggregation }}' as aggregation,
        coalesce(site_days.is_closed, false) as is_day_closed,
        false as is_estimated
    from {{ relation }}
    left join site_days
        on {{ relation }}.site_id = site_days.site_id
        and {{ relation }}.day = site_days.day
    {%- endfor %}
    {%- for metric, unit, aggregation in [
        ('issued_qty', 'unit', 'sum'),
        ('unit_cost', 'cost_unit', 'mean'),
    ] %}
    union all
    select
        site_id,
        'material' as scope,
        material_id as scope_id,
        '{{ metric }}' as metric,
        day,
        {{ metric }} as value,
        {{ unit }} as unit,
        '{{ aggregation }}' as aggregation,
        is_day_closed,
        false as is_estimated
    from materials
    {%- endfor %}
),

final as (
    select
        site_id,
        scope,
        scope_id,
        metric,
        day,
        value,
        unit,
        aggregation,
        is_day_closed,
        is_estimated
    from metrics
    where value is not null
)

select * from final
