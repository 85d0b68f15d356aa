"""Energy: the weekly energy reports and the e-mail of every energy report (the dbt marts of the
group come with the dbt project; the monthly energy cost report with the monthly reports)."""
