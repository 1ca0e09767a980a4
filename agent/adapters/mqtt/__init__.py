"""MQTT link."""
