"""Durable outbox, fiscal worker and sync queue."""
