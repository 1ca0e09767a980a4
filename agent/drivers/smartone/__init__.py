"""The SmartOne (Azsmart) e-kassa driver: the cashbox's local HTTP API (docs/smartone-notes.md)."""
