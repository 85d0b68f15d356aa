-- Every input and output volume is measured, estimated or simulated: the three shares of the
-- accuracy statement add up to 100 % wherever there is volume to share.
select
    site_id,
    day,
    input_measured_pct + input_estimated_pct + input_simulated_pct as input_pct,
    output_measured_pct + output_estimated_pct + output_simulated_pct as output_pct
from {{ ref('fct_site_balance_daily') }}
where (inputs_m3 > 0
        and abs(input_measured_pct + input_estimated_pct + input_simulated_pct - 100) > 1e-6)
    or (outputs_m3 > 0
        and abs(output_measured_pct + output_estimated_pct + output_simulated_pct - 100) > 1e-6)
