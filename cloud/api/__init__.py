"""The cloud's HTTP API (aiohttp): :func:`build_api` over a store, tokens and a publisher."""

from cloud.api.app import build_api
from cloud.api.auth import Role
from cloud.api.errors import ApiError
from cloud.api.publisher import Publisher, receipt_topic

__all__ = ["ApiError", "Publisher", "Role", "build_api", "receipt_topic"]
