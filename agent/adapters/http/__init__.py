"""Local HTTP API."""
