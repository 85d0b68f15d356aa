"""Metering: the raw metering lake (partitioned by day), the e-mail of the monthly metering
reports (the dbt metering marts of the group come with the dbt project, in group `metering`
by their folder; the monthly reports with the monthly report run)."""
