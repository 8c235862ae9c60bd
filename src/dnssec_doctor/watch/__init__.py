"""Watching zones: periodic checks, history in a database, alerts, Prometheus metrics."""
