"""The fiscal edge agent."""
