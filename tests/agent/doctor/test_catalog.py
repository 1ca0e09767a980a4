"""The Russian catalog and the source are in step: every msgid translated, nothing stale.

The msgids are the string literals of every ``msg()`` and ``nmsg()`` call in agent/doctor/;
the test reads them from the source (no extraction tool), so a new message without its
Russian fails here, and so does a translation whose ``{placeholders}`` differ.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agent.doctor.i18n import parse_po, translations

REPO = Path(__file__).resolve().parents[3]
DOCTOR = REPO / "agent" / "doctor"
RU_PO = DOCTOR / "locale" / "ru.po"
RU_PLURALS = 3
_FIELD = re.compile(r"\{(\w+)\}")

Key = str | tuple[str, str]


def _source_msgids() -> dict[Key, str]:
    """msgid (or singular, plural) -> where it is; every call's text must be a literal."""
    found: dict[Key, str] = {}
    for path in sorted(DOCTOR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in {"msg", "nmsg"}:
                continue
            count = 1 if node.func.id == "msg" else 2
            texts = node.args[:count]
            where = f"{path.name}:{node.lineno}"
            assert all(
                isinstance(text, ast.Constant) and isinstance(text.value, str) for text in texts
            ), f"{where}: the message text must be a string literal"
            values = [text.value for text in texts]  # type: ignore[attr-defined]
            key: Key = values[0] if count == 1 else (values[0], values[1])
            found.setdefault(key, where)
    return found


def _catalog() -> dict[Key, list[str]]:
    entries = parse_po(RU_PO.read_text(encoding="utf-8"))
    catalog: dict[Key, list[str]] = {}
    for entry in entries:
        if entry.msgid == "":
            continue
        key: Key = entry.msgid if entry.msgid_plural is None else (entry.msgid, entry.msgid_plural)
        assert key not in catalog, f"{key!r} twice in ru.po"
        assert not entry.is_fuzzy, f"{key!r} is fuzzy in ru.po (line {entry.line})"
        catalog[key] = entry.msgstr
    return catalog


def test_catalog_every_source_message_is_translated() -> None:
    """Each msg()/nmsg() of agent/doctor has a Russian translation in locale/ru.po."""
    source = _source_msgids()
    catalog = _catalog()
    missing = {key: where for key, where in source.items() if key not in catalog}
    assert not missing, f"not in ru.po: {missing}"
    assert len(source) > 100  # the walk found the messages, it did not pass on nothing


def test_catalog_has_nothing_stale() -> None:
    """ru.po holds no msgid the source no longer uses."""
    source = _source_msgids()
    stale = [key for key in _catalog() if key not in source]
    assert not stale, f"in ru.po but not in the source: {stale}"


def test_catalog_translations_keep_their_placeholders() -> None:
    """Every translation is non-empty, in Cyrillic where it has words, with the same fields."""
    for key, forms in _catalog().items():
        singular = key if isinstance(key, str) else key[0]
        expected = set(_FIELD.findall(singular))
        assert forms, key
        if isinstance(key, tuple):
            assert len(forms) == RU_PLURALS, f"{key!r}: Russian has three plural forms"
        for form in forms:
            assert form.strip(), f"{key!r}: empty translation"
            assert set(_FIELD.findall(form)) == expected, f"{key!r}: {form!r}"


def test_catalog_loads_with_russian_plurals() -> None:
    """The runtime catalog picks Russian's three forms: 1, 2-4, 5-20, then 21, 22, 25, 111."""
    catalog = translations("ru")
    one, few = (
        "{count} document is waiting to be sent to the OFD",
        "{count} documents are waiting to be sent to the OFD",
    )
    forms = {
        n: catalog.ngettext(one, few, n).format(count=n) for n in (1, 2, 5, 11, 21, 22, 25, 111)
    }
    assert forms == {
        1: "1 документ ждёт отправки в ОФД",
        2: "2 документа ждут отправки в ОФД",
        5: "5 документов ждут отправки в ОФД",
        11: "11 документов ждут отправки в ОФД",
        21: "21 документ ждёт отправки в ОФД",
        22: "22 документа ждут отправки в ОФД",
        25: "25 документов ждут отправки в ОФД",
        111: "111 документов ждут отправки в ОФД",
    }


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_catalog_is_valid_for_gnu_msgfmt(tmp_path: Path) -> None:
    """GNU msgfmt --check accepts ru.po (the same file translators' tools open)."""
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "ru.mo"), str(RU_PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_catalog_ships_in_the_package() -> None:
    """pyproject.toml lists the .po files as package data, so a wheel carries them too."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"agent.doctor" = ["locale/*.po"]' in pyproject
