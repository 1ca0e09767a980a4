"""The store's batch writes as SQL text on the driver: the same statements, compiled once.

Through ``conn.execute(statement, rows)`` SQLAlchemy builds every row's parameters itself
(``construct_params`` and a bind processor per value): about 9 of the 61 us of CPU a result
that validating and writing the ingest's batches cost (SQLite, batches of 50). Here each
write's statement (cloud.store.writes, the dialect's ``INSERT … ON CONFLICT``) is compiled
once per dialect and per set of row keys into its SQL text and the order of its parameters;
a row becomes a tuple in that order, with the column types' own bind processors applied (the
times' :class:`~cloud.store.schema.UtcDateTime`, as SQLAlchemy applies them) and the
statement's constant parameters (the final statuses of a result's ``WHERE``) after it. The
tuples go to the driver in one executemany (``exec_driver_sql``) inside the caller's
transaction: the same SQL and the same values as before, without SQLAlchemy's work per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["execute_rows"]

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One statement's SQL text and how row dicts become its parameter tuples."""

    sql: str
    values: Callable[[Mapping[str, object]], tuple[Any, ...]]
    processors: tuple[tuple[int, Processor], ...]
    constants: tuple[Any, ...]

    def params(self, rows: Iterable[Mapping[str, object]]) -> list[tuple[Any, ...]]:
        """Each row's parameters in the statement's order, processed as SQLAlchemy would.

        A processor runs once per distinct value object in a row after row (a batch's
        ``received_at`` is one datetime for every row): a bind processor is a pure function.
        """
        values, constants = self.values, self.constants
        if not self.processors:
            return [values(row) + constants for row in rows]
        lists = [list(values(row)) for row in rows]
        for index, process in self.processors:
            last_in: object = _NOTHING
            last_out: object = None
            for params in lists:
                value = params[index]
                if value is not last_in:
                    last_in, last_out = value, process(value)
                params[index] = last_out
        return [(*params, *constants) for params in lists]


_NOTHING: Any = object()


_PLANS: dict[tuple[object, ...], _Plan] = {}
"""Plans by the dialect's name, driver and paramstyle (not the dialect object: each engine has
its own), the statement (built once, cloud.store.writes) and the rows' keys."""


def _plan(dialect: Dialect, statement: Any, keys: tuple[str, ...]) -> _Plan:  # noqa: ANN401 - an Insert
    key = (dialect.name, dialect.driver, dialect.paramstyle, statement, keys)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _compile(dialect, statement, keys)
    return plan


def _compile(dialect: Dialect, statement: Any, keys: tuple[str, ...]) -> _Plan:  # noqa: ANN401 - an Insert
    compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    order: list[str] = list(compiled.positiontup or ())
    columns = statement.table.c
    names = [name for name in order if name in keys]
    constants = order[len(names) :]
    if order[: len(names)] != names or len(set(names)) != len(names):
        msg = f"{statement.table.name}: the row's parameters must come first, once each"
        raise ValueError(msg)
    processors = []
    for index, name in enumerate(names):
        process = columns[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((index, process))
    constant_values = []
    for name in constants:
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        value = bind.effective_value
        constant_values.append(process(value) if process is not None else value)
    getter = itemgetter(*names)
    values: Callable[[Mapping[str, object]], tuple[Any, ...]] = (
        getter if len(names) > 1 else (lambda row: (getter(row),))
    )
    return _Plan(str(compiled), values, tuple(processors), tuple(constant_values))


async def execute_rows(
    conn: AsyncConnection,
    statement: Any,  # noqa: ANN401 - a dialect's Insert, built once (cloud.store.writes)
    rows: Iterable[Mapping[str, object]],
) -> None:
    """Run ``statement`` for every row (dicts with the same keys) in one executemany."""
    batch = list(rows)
    if not batch:
        return
    plan = _plan(conn.dialect, statement, tuple(batch[0]))
    await conn.exec_driver_sql(plan.sql, plan.params(batch))
