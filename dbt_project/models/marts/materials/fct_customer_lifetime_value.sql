{#- Historical customer lifetime value: each customer's gross margin to date over completed and
    invoiced jobs and over sales, with tenure, order count, margin per order and days since the
    last order. A sale costs what int_material_sale_costs says (as in fct_product_margins_monthly
    and fct_batches): its quantity x the unit cost of the lot sold (fct_lot_costs); without a
    lot, or with a lot of unknown cost, the quantity-weighted unit cost of the product's batches
    finished by then. Days since the last order count to the site's latest job or sale (the
    data's own "today", so that a rebuild gives the same figures). Dates are site-local. -#}
with

job_costs as (
    select * from {{ ref('fct_job_costs') }}
    where month is not null
),

sale_costs as (
    select * from {{ ref('int_material_sale_costs') }}
),

customers as (
    select * from {{ ref('stg_site_config__materials_customers') }}
),

sites as (
    select * from {{ ref('stg_site_config__sites') }}
),

sale_orders as (
    select
        site_id,
        customer_id,
        sold_at as ordered_at,
        'sale' as order_kind,
        cast(revenue as decimal(18, 4)) as revenue,
        cast(cogs as decimal(18, 4)) as cost
    from sale_costs
),

job_orders as (
    select
        site_id,
        customer_id,
        coalesce(completed_at, invoiced_at) as ordered_at,
        'job' as order_kind,
        revenue,
        case when is_cost_complete then total_cost end as cost
    from job_costs
),

orders as (
    select * from sale_orders
    union all
    select * from job_orders
),

local_orders as (
    select
        orders.*,
        cast({{ utc_to_local('orders.ordered_at', "coalesce(sites.timezone, 'UTC')") }} as date)
            as ordered_on
    from orders
    left join sites
        on orders.site_id = sites.site_id
),

site_today as (
    select site_id, max(ordered_on) as as_of
    from local_orders
    group by site_id
),

grouped as (
    select
        site_id,
        customer_id,
        min(ordered_at) as first_at,
        max(ordered_at) as last_at,
        min(ordered_on) as first_on,
        max(ordered_on) as last_on,
        count(*) as orders,
        {{ count_where("order_kind = 'job'") }} as jobs,
        {{ count_where("order_kind = 'sale'") }} as sales,
        sum(revenue) as revenue,
        sum(cost) as cost,
        sum(revenue - cost) as gross_margin,
        sum(case when cost is not null then revenue end) as margin_revenue,
        {{ count_where('cost is null or revenue is null') }} as orders_without_margin
    from local_orders
    group by site_id, customer_id
),

final as (
    select
        grouped.site_id,
        grouped.customer_id,
        customers.customer_name,
        customers.segment,
        grouped.first_at,
        grouped.last_at,
        {{ dbt.datediff('grouped.first_on', 'grouped.last_on', 'day') }} as tenure_days,  -- noqa: LT05
        cast(grouped.orders as bigint) as orders,
        grouped.jobs,
        grouped.sales,
        grouped.revenue,
        grouped.cost,
        grouped.gross_margin,
        {{ safe_divide('grouped.gross_margin * 100', 'grouped.margin_revenue') }}
            as gross_margin_pct,
        {{ safe_divide('grouped.gross_margin', 'grouped.orders - grouped.orders_without_margin') }}
            as margin_per_order,
        grouped.orders_without_margin,
        site_today.as_of,
        {{ dbt.datediff('grouped.last_on', 'site_today.as_of', 'day') }} as days_since_last  -- noqa: LT05
    from grouped
    inner join site_today
        on grouped.site_id = site_today.site_id
    left join customers
        on grouped.site_id = customers.site_id
        and grouped.customer_id = customers.customer_id
)

select * from final
