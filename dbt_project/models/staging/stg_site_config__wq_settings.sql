with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'wq_settings')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(category3_tds_mg_l as double precision) as category3_tds_mg_l,
        cast(category3_ph_low as double precision) as category3_ph_low,
        cast(category3_ph_high as double precision) as category3_ph_high,
        cast(ec_to_tds_factor as double precision) as ec_to_tds_factor
    from source
)

select * from renamed
