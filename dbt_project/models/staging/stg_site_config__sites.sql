with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'sites')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(name as varchar) as site_name,
        cast(organisation as varchar) as organisation,
        cast(organisation_name as varchar) as organisation_name,
        cast(region as varchar) as region,
        cast(region_name as varchar) as region_name,
        cast(financial_year_start_month as integer) as financial_year_start_month,
        cast(timezone as varchar) as timezone,
        cast(regulators as varchar) as regulators,
        cast(water_stressed as boolean) as is_water_stressed,
        cast(quality_high as varchar) as quality_high_categories
    from source
)

select * from renamed
