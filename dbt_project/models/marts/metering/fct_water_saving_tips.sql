{#- Tips for each customer and site-local month, one row per tip that applies:
    - high_per_capita (saving_water): litres per person per day above per_capita_benchmark_l;
    - leak_days (leak_prevention): days on which one of the customer's meters leaked
      (fct_meter_leak_days), benchmark 0;
    - meter_attention (maintenance): days on which one of the customer's meters had low
      battery or was offline (fct_meter_health_daily), benchmark 0.
    `evidence` states the figures in words. -#}
with

settings as (
    select * from {{ ref('int_metering_settings') }}
),

consumption as (
    select * from {{ ref('fct_customer_consumption_monthly') }}
),

leak_months as (
    select
        site_id,
        customer_id,
        {{ month_start('day') }} as month,
        count(distinct day) as leak_days,
        sum(volume_m3) as leak_day_volume_m3
    from {{ ref('fct_meter_leak_days') }}
    where leak
        and customer_id is not null
    group by all
),

meters as (
    select
        site_id,
        meter_id,
        customer_id
    from {{ ref('dim_metering_meters') }}
),

attention_months as (
    select
        health.site_id,
        meters.customer_id,
        {{ month_start('health.day') }} as month,
        count(distinct health.day) as attention_days
    from {{ ref('fct_meter_health_daily') }} as health
    inner join meters
        on health.site_id = meters.site_id
        and health.meter_id = meters.meter_id
    where health.status = 'offline'
        or health.issues like '%low battery%'
    group by all
),

tips as (
    select
        consumption.site_id,
        consumption.customer_id,
        consumption.month,
        'high_per_capita' as tip_id,
        'saving_water' as category,
        'Use less water per person' as title,
        'Your household used '
        || cast(cast(round(consumption.per_capita_l_per_day) as integer) as varchar)
        || ' L per person per day this month; the benchmark is '
        || cast(cast(round(settings.per_capita_benchmark_l) as integer) as varchar)
        || ' L. Shorter showers and full loads in the washing machine save the most.'
            as evidence,
        consumption.per_capita_l_per_day as metric_value,
        settings.per_capita_benchmark_l as benchmark_value
    from consumption
    inner join settings
        on consumption.site_id = settings.site_id
    where consumption.per_capita_l_per_day > settings.per_capita_benchmark_l

    union all

    select
        site_id,
        customer_id,
        month,
        'leak_days' as tip_id,
        'leak_prevention' as category,
        'Check for a leak' as title,
        'Water ran like a leak on ' || cast(leak_days as varchar)
        || ' day(s) this month (' || cast(round(leak_day_volume_m3, 2) as varchar)
        || ' m3 on those days). Check toilets, taps and the pipe after the meter.' as evidence,
        cast(leak_days as double precision) as metric_value,
        0.0 as benchmark_value
    from leak_months

    union all

    select
        site_id,
        customer_id,
        month,
        'meter_attention' as tip_id,
        'maintenance' as category,
        'Your meter needs attention' as title,
        'Your meter reported a low battery or was offline on '
        || cast(attention_days as varchar)
        || ' day(s) this month; a technician visit keeps your credit accurate.' as evidence,
        cast(attention_days as double precision) as metric_value,
        0.0 as benchmark_value
    from attention_months
    where customer_id is not null
)

select * from tips
