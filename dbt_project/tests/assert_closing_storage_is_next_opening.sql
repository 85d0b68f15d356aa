-- A store's closing storage on one day is its opening storage on the next: both are the volume
-- at the same local midnight.
with

storage as (
    select * from {{ ref('fct_node_balance_daily') }}
    where node_kind = 'store'
)

select
    today.site_id,
    today.node_id,
    today.day,
    today.closing_storage_m3,
    tomorrow.opening_storage_m3
from storage as today
inner join storage as tomorrow
    on today.site_id = tomorrow.site_id
    and today.node_id = tomorrow.node_id
    and tomorrow.day = {{ add_days('today.day', 1) }}
where abs(today.closing_storage_m3 - tomorrow.opening_storage_m3) > 1e-6
    or (today.closing_storage_m3 is null) <> (tomorrow.opening_storage_m3 is null)
