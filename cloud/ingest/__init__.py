"""The cloud's ingest: the agents' events, healths and the CRM's requests from MQTT to the store."""

from cloud.ingest.consumer import Ingest, IngestSettings, IngestStats, ingest_link_settings
from cloud.ingest.parse import MAX_PAYLOAD_BYTES, Malformed, Parsed, Reason, parse
from cloud.ingest.service import serve
from cloud.ingest.topics import Kind, Source, filters, parse_topic
from cloud.ingest.writer import write_batch

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Ingest",
    "IngestSettings",
    "IngestStats",
    "Kind",
    "Malformed",
    "Parsed",
    "Reason",
    "Source",
    "filters",
    "ingest_link_settings",
    "parse",
    "parse_topic",
    "serve",
    "write_batch",
]
