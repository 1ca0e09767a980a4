"""Public contract v1 (shared/CONTRACT.md) as pydantic models."""
