{#- Maintenance tasks of customer meters (the latest delivered version of each task) with the
    meter's customer and their state as of the site's last day of metering data: done,
    cancelled, overdue (scheduled and due before that day), due_soon (due within
    maintenance_due_days), else scheduled; days_overdue = days past due of an overdue task
    (0 for a scheduled task not yet due, null for done or cancelled ones). -#}
with

tasks as (
    select * from {{ ref('stg_metering__maintenance') }}
    qualify row_number() over (
        partition by site_id, task_id order by loaded_at desc, source_row desc
    ) = 1
),

settings as (
    select * from {{ ref('int_metering_settings') }}
),

as_of_days as (
    select
        site_id,
        max(day) as as_of_day
    from {{ ref('fct_meter_consumption_daily') }}
    group by site_id
),

meters as (
    select
        site_id,
        meter_id,
        customer_id
    from {{ ref('dim_metering_meters') }}
),

final as (
    select
        tasks.site_id,
        tasks.task_id,
        tasks.meter_id,
        meters.customer_id,
        tasks.task_type,
        tasks.due_date,
        tasks.technician,
        tasks.status,
        tasks.done_at,
        case
            when tasks.status = 'done' then 'done'
            when tasks.status = 'cancelled' then 'cancelled'
            when tasks.due_date < as_of_days.as_of_day then 'overdue'
            when tasks.due_date
                <= {{ add_days('as_of_days.as_of_day', 'settings.maintenance_due_days') }}
                then 'due_soon'
            else 'scheduled'
        end as due_state,
        case
            when tasks.status in ('done', 'cancelled') then null
            else greatest({{ dbt.datediff('tasks.due_date', 'as_of_days.as_of_day', 'day') }}, 0)
        end as days_overdue
    from tasks
    inner join settings
        on tasks.site_id = settings.site_id
    left join as_of_days
        on tasks.site_id = as_of_days.site_id
    left join meters
        on tasks.site_id = meters.site_id
        and tasks.meter_id = meters.meter_id
)

select * from final
