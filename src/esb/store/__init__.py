"""Persistence: messages, deliveries, attempts, outbox and audit, on PostgreSQL or SQLite."""
