with

source as (
    select * from {{ read_lake_parquet(source('site_config', 'sustainability_goals')) }}
),

renamed as (
    select
        cast(site_id as varchar) as site_id,
        cast(goal_id as varchar) as goal_id,
        cast(metric as varchar) as metric,
        cast(target as double precision) as target_value,
        cast(start_day as date) as start_day,
        cast(due_day as date) as due_day,
        cast(owner as varchar) as owner,
        cast(baseline as double precision) as declared_baseline_value,
        cast(description as varchar) as description
    from source
)

select * from renamed
