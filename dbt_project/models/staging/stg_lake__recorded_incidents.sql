{#- Re-created with every window run: whether the register has been exported yet is decided when
    the view is created. -#}
{{ config(tags=['partitioned_by_day']) }}

{#- The environmental incidents register as recorded (CLI or drop file), one row per incident. -#}
with

{% if lake_has_files(source('lake', 'incidents')) %}
source as (
    select * from {{ read_lake_parquet(source('lake', 'incidents')) }}
),
{% else %}
source as (
    select
        cast(null as varchar) as incident_id,
        cast(null as varchar) as site_id,
        cast(null as varchar) as incident_type,
        cast(null as varchar) as node_id,
        cast(null as varchar) as flow_id,
        cast(null as timestamp with time zone) as started_at,
        cast(null as timestamp with time zone) as ended_at,
        cast(null as double precision) as volume_m3,
        cast(null as varchar) as severity,
        cast(null as varchar) as status,
        cast(null as boolean) as reported_to_authority,
        cast(null as date) as reported_on,
        cast(null as varchar) as authority_reference,
        cast(null as varchar) as description,
        cast(null as varchar) as recorded_via,
        cast(null as timestamp with time zone) as created_at,
        cast(null as timestamp with time zone) as updated_at
    where false
),
{% endif %}

sites as (
    select * from {{ read_lake_parquet(source('site_config', 'sites')) }}
),

renamed as (
    select
        cast(source.incident_id as varchar) as incident_id,
        cast(source.site_id as varchar) as site_id,
        cast(source.incident_type as varchar) as incident_type,
        cast(source.node_id as varchar) as node_id,
        cast(source.flow_id as varchar) as flow_id,
        cast(source.started_at as timestamp with time zone) as started_at_utc,
        cast(source.ended_at as timestamp with time zone) as ended_at_utc,
        cast({{ utc_to_local('source.started_at', 'sites.timezone') }} as date) as started_day,
        cast({{ utc_to_local('source.ended_at', 'sites.timezone') }} as date) as ended_day,
        cast(source.volume_m3 as double precision) as volume_m3,
        cast(source.severity as varchar) as severity,
        cast(source.status as varchar) as status,
        cast(source.reported_to_authority as boolean) as is_reported_to_authority,
        cast(source.reported_on as date) as reported_on,
        cast(source.authority_reference as varchar) as authority_reference,
        cast(source.description as varchar) as description,
        cast(source.recorded_via as varchar) as recorded_via,
        cast(source.created_at as timestamp with time zone) as created_at,
        cast(source.updated_at as timestamp with time zone) as updated_at
    from source
    left join sites
        on source.site_id = sites.site_id
)

select * from renamed
