"""Bearer tokens and the two roles (docs/contract.md, access v1.1).

With ``[auth]`` tokens set, every route but ``/healthz`` needs ``Authorization: Bearer
<token>``: the CRM's token may read, post transactions, reissue and adopt; support's may read,
reissue and adopt. A missing or unknown token is 401 with ``WWW-Authenticate: Bearer``; a
known token of a role the route does not allow is 403. Without tokens every caller is
``local`` (the cloud then listens on loopback only: cloud.config).
"""

from __future__ import annotations

import hmac
from enum import StrEnum

from aiohttp import web

from cloud.api.errors import ApiError
from cloud.config import AuthConfig

__all__ = ["Role", "authenticate", "require"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="fiscal-cloud"'}


class Role(StrEnum):
    """Who is calling: kept with every reissue and adoption."""

    CRM = "crm"
    SUPPORT = "support"
    LOCAL = "local"  # no [auth]: loopback only


def authenticate(request: web.Request, auth: AuthConfig) -> Role:
    """The caller's role from its bearer token.

    Raises:
        ApiError: 401 when tokens are configured and the request has none or an unknown one.
    """
    if not auth.enabled:
        return Role.LOCAL
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "unauthorized", "send Authorization: Bearer <token>", headers=_CHALLENGE
        )
    token = token.strip()
    for role, expected in ((Role.CRM, auth.crm_token), (Role.SUPPORT, auth.support_token)):
        if expected is not None and hmac.compare_digest(token.encode(), expected.encode()):
            return role
    raise ApiError(401, "unauthorized", "unknown token", headers=_CHALLENGE)


def require(role: Role, allowed: frozenset[Role], action: str) -> None:
    """Raise 403 unless ``role`` may do ``action``."""
    if role is not Role.LOCAL and role not in allowed:
        raise ApiError(403, "forbidden", f"the {role.value} token may not {action}")
