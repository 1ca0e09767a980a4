"""docs/contract.md and the pydantic models name the same fields, both ways, parts included.

Each message section of docs/contract.md (``### ReceiptRequest`` ...) has a fenced block with
one field (or a comma-separated group of fields) per line starting in the first column;
``{...}`` after a field lists its part's fields, ``[{...}]`` a list element's, and
``name: {...}`` nests further. A field marked ``[planned]`` is in the contract but not in the
agent yet: it must be absent from the model (the mark goes once the model takes it).
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import BaseModel

from agent.contract import (
    CashCommand,
    CommandOutcome,
    FiscalDocument,
    Health,
    ReceiptRequest,
    ReceiptResult,
    ShiftCommand,
    ShiftReport,
)

REPO = Path(__file__).resolve().parents[1]
CONTRACT = REPO / "docs" / "contract.md"

MODELS: dict[str, type[BaseModel]] = {
    "ReceiptRequest": ReceiptRequest,
    "ReceiptResult": ReceiptResult,
    "ShiftCommand": ShiftCommand,
    "CashCommand": CashCommand,
    "CommandOutcome": CommandOutcome,
    "ShiftReport": ShiftReport,
    "FiscalDocument": FiscalDocument,
    "Health": Health,
}
PLANNED = "[planned]"

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_GROUP = re.compile(r"([a-z_][a-z0-9_]*\??(?:, [a-z_][a-z0-9_]*\??)*)(?=\s|$)")


@dataclass
class DocField:
    """One field as the doc names it: planned or not, and its part's fields if it lists them."""

    planned: bool = False
    children: dict[str, DocField] | None = None


@dataclass
class Section:
    name: str
    fields: dict[str, DocField] = field(default_factory=dict)


# -- the doc's side ---------------------------------------------------------------------------


def sections(text: str) -> dict[str, str]:
    """The first fenced block under each ``### Name`` heading (the heading's first word)."""
    blocks: dict[str, str] = {}
    for match in re.finditer(r"^### (\w+)[^\n]*\n(.*?)(?=^##|\Z)", text, re.MULTILINE | re.DOTALL):
        fence = re.search(r"^```[a-z]*\n(.*?)^```", match.group(2), re.MULTILINE | re.DOTALL)
        if fence:
            blocks[match.group(1)] = fence.group(1)
    return blocks


def parse_block(block: str) -> dict[str, DocField]:
    """The top-level fields of one fenced block, with their parts."""
    entries: list[str] = []
    for line in block.splitlines():
        if line[:1].strip():
            entries.append(line)
        elif entries:
            entries[-1] += "\n" + line
    fields: dict[str, DocField] = {}
    for entry in entries:
        group = _GROUP.match(entry)
        if group is None:
            msg = f"cannot read a field name at the start of {entry.splitlines()[0]!r}"
            raise ValueError(msg)
        names = [name.rstrip("?") for name in group.group(1).split(", ")]
        rest = entry[group.end() :].strip()
        planned = rest.startswith(PLANNED)
        children = _part(rest) if len(names) == 1 else None
        for name in names:
            fields[name] = DocField(planned=planned, children=children)
    return fields


def _part(value: str) -> dict[str, DocField] | None:
    """The fields of ``{...}`` or ``[{...}]`` at the start of ``value``; None for a leaf."""
    start = 1 if value.startswith("[{") else 0
    if value[start : start + 1] != "{":
        return None
    depth = 0
    for index in range(start, len(value)):
        depth += {"{": 1, "}": -1}.get(value[index], 0)
        if depth == 0:
            return _items(value[start + 1 : index])
    msg = f"unbalanced braces in {value!r}"
    raise ValueError(msg)


def _items(inner: str) -> dict[str, DocField]:
    """``a, b?, c: {x, y}, d: "up" | "down"``: each item's name, and its part if it has one."""
    items: list[str] = []
    depth = 0
    current = ""
    for char in " ".join(inner.split()):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    fields: dict[str, DocField] = {}
    for item in (item.strip() for item in items):
        name = _NAME.match(item)
        if name is None:
            msg = f"cannot read a field name in {item!r}"
            raise ValueError(msg)
        value = item[name.end() :].lstrip("?").strip().removeprefix(":").strip()
        fields[name.group()] = DocField(children=_part(value))
    return fields


# -- the model's side -------------------------------------------------------------------------


def _part_model(annotation: object) -> type[BaseModel] | None:
    """The model a field holds, through Optional, unions, lists and Annotated; else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _part_model(arg)
            if found is not None:
                return found
    return None


def differences(model: type[BaseModel], fields: dict[str, DocField], where: str) -> list[str]:
    """Every name the model and the doc do not share, recursing into parts."""
    problems: list[str] = []
    for name, info in model.model_fields.items():
        wire = info.alias or name
        path = f"{where}.{wire}"
        doc = fields.get(wire)
        if doc is None:
            problems.append(f"{path}: in the model {model.__name__}, missing from docs/contract.md")
            continue
        if doc.planned:
            problems.append(
                f"{path}: marked {PLANNED} in docs/contract.md but the model has it: drop the mark"
            )
        part = _part_model(info.annotation)
        if part is not None and doc.children is None:
            problems.append(
                f"{path}: docs/contract.md lists no {{...}} of its fields ({part.__name__})"
            )
        elif part is not None and doc.children is not None:
            problems.extend(differences(part, doc.children, path))
        elif part is None and doc.children is not None:
            problems.append(
                f"{path}: docs/contract.md lists fields of a part the model does not have"
            )
    known = {info.alias or name for name, info in model.model_fields.items()}
    for name, doc in fields.items():
        if name not in known and not doc.planned:
            problems.append(
                f"{where}.{name}: in docs/contract.md, missing from the model {model.__name__}"
            )
    return problems


# -- the tests --------------------------------------------------------------------------------


DOC_SECTIONS = sections(CONTRACT.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_doc_and_model_name_the_same_fields(name: str) -> None:
    assert name in DOC_SECTIONS, f'docs/contract.md has no "### {name}" section with a ``` block'
    problems = differences(MODELS[name], parse_block(DOC_SECTIONS[name]), name)
    assert not problems, "docs/contract.md and the model disagree:\n" + "\n".join(problems)


def test_shift_report_doc_names_the_counters_parts() -> None:
    """The parser reads nested parts: counters.sales carries the v1.1 change fields."""
    fields = parse_block(DOC_SECTIONS["ShiftReport"])
    counters = fields["counters"].children
    assert counters is not None
    sales = counters["sales"].children
    assert sales is not None
    assert {"cash", "cash_received", "change"} <= sales.keys()
    assert fields["closed_at"] == DocField()


class _Part(BaseModel):
    code: str
    message: str


class _Sample(BaseModel):
    id: str
    error: _Part | None = None
    items: list[_Part]


def test_a_field_missing_on_either_side_fails_with_its_path() -> None:
    """The check is not vacuous: a missing, an extra and a nested difference are each named."""
    block = (
        "id          the id\n"
        "error?      {code}\n"
        "items       [{code, message, extra}]\n"
        "later?      [planned] not yet\n"
        "ghost       documented only\n"
    )
    problems = differences(_Sample, parse_block(block), "Sample")
    assert problems == [
        "Sample.error.message: in the model _Part, missing from docs/contract.md",
        "Sample.items.extra: in docs/contract.md, missing from the model _Part",
        "Sample.ghost: in docs/contract.md, missing from the model _Sample",
    ]


def test_a_planned_field_the_model_has_must_lose_its_mark() -> None:
    problems = differences(_Part, parse_block("code        [planned] x\nmessage     y\n"), "P")
    assert problems == [
        "P.code: marked [planned] in docs/contract.md but the model has it: drop the mark"
    ]
