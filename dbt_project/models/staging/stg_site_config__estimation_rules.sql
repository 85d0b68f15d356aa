with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'estimation_rules')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(flow_id as varchar) as flow_id,
        cast(method as varchar) as estimation_method,
        cast(classification as varchar) as classification,
        cast(description as varchar) as description,
        cast(rain_meter as varchar) as rain_meter_id,
        cast(pan_meter as varchar) as pan_meter_id,
        cast(ore_meter as varchar) as ore_meter_id,
        cast(moisture_meter as varchar) as moisture_meter_id,
        cast(node as varchar) as node_id,
        cast(source_flow as varchar) as source_flow_id,
        cast(moisture_basis as varchar) as moisture_basis,
        cast(area_m2 as double precision) as area_m2,
        cast(runoff_coefficient as double precision) as runoff_coefficient,
        cast(pan_factor as double precision) as pan_factor,
        cast(moisture_pct as double precision) as moisture_pct,
        cast(water_density_t_per_m3 as double precision) as water_density_t_per_m3,
        cast(bulk_density_t_per_m3 as double precision) as bulk_density_t_per_m3,
        cast(m3_per_t as double precision) as m3_per_t,
        cast(return_pct as double precision) as return_pct,
        cast(retention_pct as double precision) as retention_pct,
        cast(rate_pct_per_month as double precision) as rate_pct_per_month,
        cast(m3_per_day as double precision) as m3_per_day,
        cast(defaulted_params as varchar) as defaulted_params
    from source
)

select * from renamed
