"""Cloud reconciliation service."""
