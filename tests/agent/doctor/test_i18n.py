"""The .po reader, the in-memory .mo it lays out for gettext, and how the language is chosen."""

from __future__ import annotations

import gettext
import io

import pytest

from agent.doctor.i18n import PoError, choose_lang, mo_bytes, parse_po

PO = r"""# a comment
msgid ""
msgstr ""
"Language: ru\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\n"

#: somewhere.py:1
msgid "paper is loaded"
msgstr "бумага есть"

msgid ""
"a long "
"message with \"quotes\""
msgstr ""
"длинное "
"сообщение с «кавычками»\tи табом"

msgid "{count} day"
msgid_plural "{count} days"
msgstr[0] "{count} день"
msgstr[1] "{count} дня"
msgstr[2] "{count} дней"

#, fuzzy
msgid "not sure"
msgstr "не уверен"

msgid "untranslated"
msgstr ""

#~ msgid "obsolete"
#~ msgstr "устарело"
"""


def _catalog(text: str) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(mo_bytes(parse_po(text))))


def test_parse_po_reads_entries_continued_lines_and_escapes() -> None:
    """Header, plain, continued and escaped strings, plurals; obsolete ones left out."""
    entries = {entry.msgid: entry for entry in parse_po(PO)}
    assert set(entries) == {
        "", "paper is loaded", 'a long message with "quotes"', "{count} day", "not sure",
        "untranslated",
    }  # fmt: skip
    assert entries['a long message with "quotes"'].msgstr == [
        "длинное сообщение с «кавычками»\tи табом"
    ]
    plural = entries["{count} day"]
    assert plural.msgid_plural == "{count} days"
    assert plural.msgstr == ["{count} день", "{count} дня", "{count} дней"]
    assert entries["not sure"].is_fuzzy
    assert not entries["paper is loaded"].is_fuzzy


def test_mo_bytes_read_by_gnu_translations() -> None:
    """The standard library reads the laid-out .mo: plain, plural with the header's rule."""
    catalog = _catalog(PO)
    assert catalog.gettext("paper is loaded") == "бумага есть"
    assert catalog.gettext('a long message with "quotes"').startswith("длинное сообщение")
    days = {n: catalog.ngettext("{count} day", "{count} days", n) for n in (1, 3, 5, 21)}
    assert days == {1: "{count} день", 3: "{count} дня", 5: "{count} дней", 21: "{count} день"}


def test_mo_bytes_leaves_out_fuzzy_and_untranslated() -> None:
    """As msgfmt does: the English shows for a fuzzy or an empty translation."""
    catalog = _catalog(PO)
    assert catalog.gettext("not sure") == "not sure"
    assert catalog.gettext("untranslated") == "untranslated"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('msgstr "x"\n', 1),
        ('msgid "a"\nmsgstr[1] "x"\n', 2),
        ('msgid "a"\nmsgstr x\n', 2),
        ('"orphan"\n', 1),
        ('msgid "a"\nmsgctxt "c"\n', 2),
    ],
    ids=["msgstr-first", "plural-out-of-order", "unquoted", "orphan-string", "unknown-keyword"],
)
def test_parse_po_refuses_what_it_cannot_read(text: str, line: int) -> None:
    """A malformed file fails naming the line, never half-read."""
    with pytest.raises(PoError) as caught:
        parse_po(text)
    assert caught.value.line == line


@pytest.mark.parametrize(
    ("cli", "config", "env", "lang"),
    [
        ("ru", "en", {"LANG": "en_US.UTF-8"}, "ru"),
        (None, "ru", {"LANG": "en_US.UTF-8"}, "ru"),
        (None, None, {"LANG": "ru_RU.UTF-8"}, "ru"),
        (None, None, {"LANG": "ru_RU.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        (None, None, {"LANG": "en_US", "LC_MESSAGES": "ru_RU"}, "ru"),
        (None, None, {"LANGUAGE": "az:ru:en", "LANG": "az_AZ.UTF-8"}, "ru"),
        (None, None, {"LANG": "az_AZ.UTF-8"}, "en"),
        (None, None, {"LANG": "C.UTF-8"}, "en"),
        (None, None, {}, "en"),
    ],
    ids=["cli", "config", "LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "unsupported", "C", "none"],
)
def test_choose_lang_order(
    cli: str | None, config: str | None, env: dict[str, str], lang: str
) -> None:
    """--lang, then [doctor] lang, then the locale (gettext's order), then English."""
    assert choose_lang(cli, config, env) == lang
