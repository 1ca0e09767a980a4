"""Bearer tokens and the two roles (docs/contract.md, access v1.1).

With ``[auth]`` tokens set, every route but ``/healthz`` needs ``Authorization: Bearer
<token>``: the CRM's token may read, post transactions, reissue and adopt; support's may read,
reissue and adopt. A missing or unknown token is 401 with ``WWW-Authenticate: Bearer``; a
known token of a role the route does not allow is 403. Without tokens every caller is
``local`` (the cloud then listens on loopback only: cloud.config).

The support page (:func:`authenticate_page`) takes HTTP Basic too, so a browser can log in: any
user name (the engineer's own: it is kept as ``by`` with every action) and the support token as
the password. Its 401 carries ``WWW-Authenticate: Basic`` so the browser asks.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web

from cloud.api.errors import ApiError
from cloud.config import AuthConfig

__all__ = ["Caller", "Role", "authenticate", "authenticate_page", "require"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="fiscal-cloud"'}
_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="fiscal-cloud", charset="UTF-8"'}
_USER = re.compile(r"\A[^\x00-\x1f:]{1,64}\Z")


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
    role = _role_of(token.strip(), auth)
    if role is None:
        raise ApiError(401, "unauthorized", "unknown token", headers=_CHALLENGE)
    return role


def _role_of(token: str, auth: AuthConfig) -> Role | None:
    found = None
    for role, expected in ((Role.CRM, auth.crm_token), (Role.SUPPORT, auth.support_token)):
        if expected is not None and hmac.compare_digest(token.encode(), expected.encode()):
            found = role
    return found


@dataclass(frozen=True, slots=True)
class Caller:
    """Who uses the support page: the role and the name kept as ``by``."""

    role: Role
    name: str


def authenticate_page(request: web.Request, auth: AuthConfig) -> Caller:
    """The support page's caller: HTTP Basic (any name, the support token) or a bearer token.

    Raises:
        ApiError: 401 with ``WWW-Authenticate: Basic`` without credentials or with wrong
            ones; 403 for the CRM's token (the page is support's; the CRM has the JSON API).
    """
    if not auth.enabled:
        return Caller(Role.LOCAL, "local")
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    name = "support"
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        name, _, token = decoded.partition(":")
    elif scheme.lower() == "bearer":
        token = credentials.strip()
    else:
        token = ""
    role = _role_of(token, auth) if token else None
    if role is None or not _USER.match(name):
        raise ApiError(
            401,
            "unauthorized",
            "log in with your name and the support token as the password",
            headers=_BASIC_CHALLENGE,
        )
    if role is not Role.SUPPORT:
        raise ApiError(403, "forbidden", f"the {role.value} token may not use the support page")
    return Caller(role, name.strip() or "support")


def require(role: Role, allowed: frozenset[Role], action: str) -> None:
    """Raise 403 unless ``role`` may do ``action``."""
    if role is not Role.LOCAL and role not in allowed:
        raise ApiError(403, "forbidden", f"the {role.value} token may not {action}")
