"""The doctor's languages: gettext catalogs read from ``locale/<lang>.po`` with no build step.

The ``.po`` files ship in the package and are the only source: :func:`parse_po` reads one (a
small subset of the format: ``msgid``, ``msgid_plural``, ``msgstr``, ``msgstr[n]``, comments,
the ``fuzzy`` flag, continued lines), :func:`mo_bytes` lays the entries out as a ``.mo`` file
in memory, and the standard library's :class:`gettext.GNUTranslations` reads that, with the
plural rule of the catalog's ``Plural-Forms`` header. So a fresh ``pip install -e .`` speaks
Russian, nothing is compiled at build time, and there is no compiled file to keep in step.

English is the msgids themselves. The language is ``--lang``, else ``[doctor] lang``, else the
locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, as gettext reads them), else
English.
"""

from __future__ import annotations

import ast
import functools
import gettext
import io
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Final, Literal

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "Lang",
    "PoEntry",
    "PoError",
    "choose_lang",
    "mo_bytes",
    "parse_po",
    "translations",
]

Lang = Literal["en", "ru"]
LANGS: Final[tuple[Lang, ...]] = ("en", "ru")
DEFAULT_LANG: Final[Lang] = "en"
_SOURCE_LANG: Final[Lang] = "en"  # the msgids are English: no catalog
_LOCALE_VARS: Final = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
_MO_MAGIC: Final = 0x950412DE


class PoError(Exception):
    """A ``.po`` file this reader cannot read; names the line."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


@dataclass(slots=True, kw_only=True)
class PoEntry:
    """One catalog entry; ``msgstr`` holds one string, or one per plural form."""

    msgid: str
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    is_fuzzy: bool = False
    line: int = 0


def _unquote(text: str, line: int) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise PoError(line, f"expected a quoted string, got {text!r}")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise PoError(line, f"bad string {text!r}") from exc
    assert isinstance(value, str)
    return value


def parse_po(text: str) -> list[PoEntry]:
    """The entries of a ``.po`` file, the header (msgid "") included, obsolete ones left out."""
    parser = _PoParser()
    for number, raw in enumerate(text.splitlines(), start=1):
        parser.feed(raw.strip(), number)
    return parser.finish()


class _PoParser:
    """Line by line: comments set flags, keywords start strings, quoted lines continue them."""

    def __init__(self) -> None:
        self.entries: list[PoEntry] = []
        self.current: PoEntry | None = None
        self.target: tuple[str, int] = ("msgid", 0)  # the string a quoted line continues
        self.is_fuzzy = False  # the next entry is marked fuzzy

    def finish(self) -> list[PoEntry]:
        if self.current is not None:
            self.entries.append(self.current)
        self.current = None
        return self.entries

    def feed(self, line: str, number: int) -> None:
        if not line or line.startswith("#~"):
            return
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line:
                self.finish()
                self.is_fuzzy = True
            return
        if line.startswith('"'):
            if self.current is None:
                raise PoError(number, "a continued string outside an entry")
            _append(self.current, self.target, _unquote(line, number))
            return
        keyword, _, rest = line.partition(" ")
        value = _unquote(rest, number)
        if keyword == "msgid":
            self.finish()
            self.current = PoEntry(msgid=value, is_fuzzy=self.is_fuzzy, line=number)
            self.is_fuzzy = False
            self.target = ("msgid", 0)
            return
        if self.current is None:
            raise PoError(number, f"{keyword} before msgid")
        self.target = _keyword(self.current, keyword, value, number)


def _append(entry: PoEntry, target: tuple[str, int], text: str) -> None:
    """A quoted line continues the string the last keyword started."""
    name, index = target
    if name == "msgid":
        entry.msgid += text
    elif name == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    else:
        entry.msgstr[index] += text


def _keyword(entry: PoEntry, keyword: str, value: str, number: int) -> tuple[str, int]:
    """Store a msgid_plural or msgstr line's value; the string later quoted lines continue."""
    if keyword == "msgid_plural":
        entry.msgid_plural = value
        return ("msgid_plural", 0)
    if keyword == "msgstr":
        entry.msgstr = [value]
        return ("msgstr", 0)
    if keyword.startswith("msgstr[") and keyword.endswith("]"):
        index = int(keyword[len("msgstr[") : -1])
        if index != len(entry.msgstr):
            raise PoError(number, f"{keyword} out of order")
        entry.msgstr.append(value)
        return ("msgstr", index)
    raise PoError(number, f"unknown keyword {keyword!r}")


_UTF8_HEADER: Final = "Content-Type: text/plain; charset=UTF-8\n"


def _utf8_header(header: str) -> str:
    """The catalog's header with its Content-Type replaced by UTF-8."""
    lines = [line for line in header.splitlines() if not line.lower().startswith("content-type:")]
    return "".join(f"{line}\n" for line in lines) + _UTF8_HEADER


def mo_bytes(entries: Iterable[PoEntry]) -> bytes:
    """The entries as a GNU ``.mo`` file (what msgfmt writes, without the hash table).

    Fuzzy entries and untranslated ones are left out, as msgfmt does: their msgid shows. The
    strings are written as UTF-8 (the ``.po`` was read as UTF-8), and the header says so
    whatever ``Content-Type`` the file had, or none.
    """
    pairs: dict[bytes, bytes] = {b"": _UTF8_HEADER.encode()}
    for entry in entries:
        if entry.msgid == "" and entry.msgid_plural is None:
            pairs[b""] = _utf8_header(entry.msgstr[0] if entry.msgstr else "").encode()
            continue
        if (entry.is_fuzzy and entry.msgid) or not any(entry.msgstr):
            continue
        key = entry.msgid
        if entry.msgid_plural is not None:
            key += "\0" + entry.msgid_plural
        pairs[key.encode()] = "\0".join(entry.msgstr).encode()
    keys = sorted(pairs)
    header_size = 7 * 4
    originals_at = header_size
    translations_at = originals_at + 8 * len(keys)
    data_at = translations_at + 8 * len(keys)
    tables: list[int] = []
    blob = io.BytesIO()
    for strings in (keys, [pairs[key] for key in keys]):
        for string in strings:
            tables += [len(string), data_at + blob.tell()]
            blob.write(string + b"\0")
    header = struct.pack("<7I", _MO_MAGIC, 0, len(keys), originals_at, translations_at, 0, data_at)
    return header + struct.pack(f"<{len(tables)}I", *tables) + blob.getvalue()


@functools.cache
def translations(lang: Lang) -> gettext.NullTranslations:
    """The catalog of ``lang``: English is the msgids (no catalog)."""
    if lang == _SOURCE_LANG:
        return gettext.NullTranslations()
    po = resources.files("agent.doctor").joinpath("locale", f"{lang}.po")
    entries = parse_po(po.read_text(encoding="utf-8"))
    return gettext.GNUTranslations(io.BytesIO(mo_bytes(entries)))


def _from_locale(value: str) -> Lang | None:
    """``ru_RU.UTF-8`` → ru; ``C``, ``POSIX`` and unknown languages → None."""
    code = value.partition(".")[0].partition("@")[0].partition("_")[0].lower()
    return next((lang for lang in LANGS if lang == code), None)


def choose_lang(cli: str | None, config: str | None, env: Mapping[str, str]) -> Lang:
    """``--lang``, else ``[doctor] lang``, else the locale's language if supported, else en."""
    for chosen in (cli, config):
        if chosen:
            found = _from_locale(chosen)
            if found is not None:
                return found
    for name in _LOCALE_VARS:
        value = env.get(name, "")
        if not value:
            continue
        if name == "LANGUAGE":  # a list in order of preference: "ru:en"
            for part in value.split(":"):
                found = _from_locale(part)
                if found is not None:
                    return found
            continue
        return _from_locale(value) or DEFAULT_LANG  # the first one set decides (POSIX)
    return DEFAULT_LANG
