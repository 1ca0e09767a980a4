"""The support page's two languages: one catalog per language (``locale/{lang}.toml``).

:func:`pick_language` chooses from the page's switch (``?lang=``), the cookie it leaves, then
``Accept-Language``; Russian when nothing matches (the clubs are Russian). :class:`Catalog`
formats a key's text with its fields; a key missing from a catalog is a bug the catalog test
catches, so the page shows the key itself rather than failing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Catalog", "catalog", "pick_language"]

LANGUAGES: Final = ("ru", "en")
DEFAULT_LANGUAGE: Final = "ru"


@dataclass(frozen=True, slots=True)
class Catalog:
    """One language's texts by key."""

    lang: str
    texts: dict[str, str]

    def __call__(self, key: str, **fields: object) -> str:
        """The text of ``key`` with ``fields`` filled in."""
        text = self.texts.get(key)
        if text is None:
            return key
        return text.format(**fields) if fields else text


@cache
def catalog(lang: str) -> Catalog:
    """The catalog of ``lang`` (one of :data:`LANGUAGES`), read once from the package."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    raw = resources.files("cloud.web").joinpath("locale", f"{lang}.toml").read_text("utf-8")
    texts = tomllib.loads(raw)
    return Catalog(lang, {str(key): str(value) for key, value in texts.items()})


def _accepted(header: str) -> list[str]:
    """``Accept-Language``'s primary tags by quality, best first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag:
            weighted.append((-quality, index, tag.split("-")[0].lower()))
    return [tag for quality, _, tag in sorted(weighted) if quality < 0]


def pick_language(switch: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's language: the switch, else the cookie, else the browser's preference."""
    for chosen in (switch, cookie):
        if chosen in LANGUAGES:
            return chosen
    for tag in _accepted(accept_language or ""):
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE
