-- The raw, worked and treated parts of the task feed found by mixing add up to the task feed.
select
    site_id,
    day,
    task_feed_m3,
    task_feed_raw_m3 + task_feed_worked_m3 + task_feed_treated_m3 as split_m3
from {{ ref('fct_water_reuse_daily') }}
where abs(task_feed_raw_m3 + task_feed_worked_m3 + task_feed_treated_m3 - task_feed_m3)
    > 1e-6 * greatest(task_feed_m3, 1)
