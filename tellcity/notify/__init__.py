"""Notifications: written to an outbox in the transaction that caused them, sent by a worker."""
