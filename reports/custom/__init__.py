"""Custom report templates: a YAML/JSON file chooses the facilities, dates, metrics, tables and
charts of a report; the shipped report machinery renders it (``docs/custom-reports.md``)."""
