"""Typed errors of the cloud's store; ``public_code`` is what a log line or an operator sees."""

from __future__ import annotations

__all__ = ["StoreError", "StoreTooNew", "StoreUrlError"]


class StoreError(Exception):
    """Base of the store's errors."""

    public_code = "store_error"


class StoreUrlError(StoreError):
    """The ``[store] url`` names no database this store can open."""

    public_code = "store_url"


class StoreTooNew(StoreError):
    """The database was written by a newer cloud (its schema version is above ours)."""

    public_code = "store_too_new"
