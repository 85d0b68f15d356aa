"""Alerts: rules, lifecycle and notification channels."""
