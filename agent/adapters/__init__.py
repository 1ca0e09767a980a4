"""Adapters: MQTT and HTTP in and out."""
