"""``country``: what the rest of the config must fit (docs/country-profiles.md).

Plain functions of the raw or validated values, each returning ``(dotted key, reason)`` for
the first thing that does not fit, or None; :class:`agent.config.AgentConfig` raises them as
its own errors, so a :class:`agent.config.ConfigError` names the key and what to do.

- ``[register] tax_rate_codes`` may name only rates of the country (the keys the file
  writes; the defaults filled in after are the Shtrih table's);
- ``[register] protocol`` must be one that fiscalises in the country;
- ``[tax]`` (tag 1055) is required where receipts carry the Russian FFD requisites (``RU``);
- where they do not (``AZ``): no ``[tax]``, no ``[cashier] inn`` (tag 1203), and
  ``[receipts] late`` is ``"never"`` (there are no correction receipts), its default there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.domain.country import COUNTRIES, CountryProfile
from agent.domain.late import LateMode, LatePolicy
from agent.domain.receipt import VatRate

__all__ = ["country_defaults", "country_mismatch", "rate_keys_mismatch"]

Problem = tuple[str, str]
"""``(dotted key, reason)``."""


def _raw_profile(data: Mapping[str, Any]) -> CountryProfile | None:
    """The profile the raw config names; None for an unknown one (field validation says so)."""
    code = data.get("country", "RU")
    return COUNTRIES.get(code) if isinstance(code, str) else None


def rate_keys_mismatch(data: Mapping[str, Any]) -> Problem | None:
    """A ``[register] tax_rate_codes`` key the raw config's country has no rate for."""
    profile = _raw_profile(data)
    register = data.get("register")
    codes = register.get("tax_rate_codes") if isinstance(register, Mapping) else None
    if profile is None or not isinstance(codes, Mapping):
        return None
    for name in codes:
        rate = VatRate.__members__.get(name.upper()) if isinstance(name, str) else None
        if rate is None or profile.accepts(rate):
            continue  # an unknown name is the field's own error
        return (
            f"register.tax_rate_codes.{name}",
            f"{profile.not_accepted(rate)}; remove it, or set country to the register's",
        )
    return None


def country_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """The raw config with the country's defaults: ``[receipts] late = "never"`` for AZ."""
    profile = _raw_profile(data)
    if profile is None or profile.ffd_requisites:
        return data
    receipts = data.get("receipts", {})
    if not isinstance(receipts, Mapping) or "late" in receipts:
        return data
    return {**data, "receipts": {**receipts, "late": LateMode.NEVER.value}}


def country_mismatch(
    profile: CountryProfile,
    *,
    protocol: str,
    has_tax: bool,
    cashier_inn: str | None,
    late: LatePolicy,
) -> Problem | None:
    """The first validated setting that does not fit ``profile``."""
    if profile.ffd_requisites and not has_tax:
        return (
            "tax",
            (
                "missing: this key is required: the tax system of each category (tag 1055),"
                " [tax] top_up, service and goods"
            ),
        )
    return _protocol_mismatch(profile, protocol) or _requisites_given(
        profile, has_tax=has_tax, cashier_inn=cashier_inn, late=late
    )


def _protocol_mismatch(profile: CountryProfile, protocol: str) -> Problem | None:
    if protocol in profile.protocols:
        return None
    elsewhere = [c.code for c in COUNTRIES.values() if protocol in c.protocols]
    hint = f', or country = "{elsewhere[0]}" for a {protocol} register' if elsewhere else ""
    fits = " or ".join(f'"{name}"' for name in sorted(profile.protocols))
    return (
        "register.protocol",
        (
            f"{protocol} registers do not fiscalise in {profile.name} ({profile.code}):"
            f" set protocol = {fits}{hint}"
        ),
    )


def _requisites_given(
    profile: CountryProfile, *, has_tax: bool, cashier_inn: str | None, late: LatePolicy
) -> Problem | None:
    """A Russian requisite configured where receipts carry none."""
    if profile.ffd_requisites:
        return None
    where = f"{profile.name} ({profile.code})"
    if has_tax:
        return "tax", f"receipts in {where} carry no tax system (tag 1055): remove [tax]"
    if cashier_inn is not None:
        return (
            "cashier.inn",
            (
                f"a cashier INN (tag 1203) is a Russian requisite; receipts in {where} carry none:"
                " remove it"
            ),
        )
    if late.mode is not LateMode.NEVER:
        return (
            "receipts.late",
            (
                f"correction receipts do not exist in {where}: a late payment is printed as an"
                ' ordinary receipt; set late = "never" or remove it'
            ),
        )
    return None
