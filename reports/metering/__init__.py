"""Reports of the prepaid customer water metering domain: the monthly revenue report and the
device-health / maintenance report (docs/metering.md, "Alerts, reports and Dagster")."""
