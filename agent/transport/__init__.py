"""Transport: open a pyserial URL and move bytes (docs/style.md §1, layer 1)."""

from agent.transport._stream import (
    CONNECT_TIMEOUT_S,
    DEFAULT_BAUDRATE,
    READ_CHUNK_BYTES,
    ByteStream,
    Transport,
    TransportParams,
)
from agent.transport.errors import LinkDown, TransportError

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_BAUDRATE",
    "READ_CHUNK_BYTES",
    "ByteStream",
    "LinkDown",
    "Transport",
    "TransportError",
    "TransportParams",
]
