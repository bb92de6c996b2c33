"""Alerts: rendering messages, sending them through apprise, and draining the outbox."""
