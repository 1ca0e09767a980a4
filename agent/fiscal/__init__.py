"""Fiscal service: receipts, shifts, the 24-hour guard, crash recovery."""
