"""Monitoring, alerting and cost controls as a library the tier components call:
metric definitions, alert topics, per-tier alarms, the dashboard and cost controls."""
