"""Webhooks out: Standard Webhooks signatures, deliverers sharing the outbox, operator commands."""
