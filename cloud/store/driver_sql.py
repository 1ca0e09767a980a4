"""SQL text run on the database driver itself, for the one read where per-row cost shows.

A large shift's read (cloud.store.shift_reads) returns 200,000 rows. Through SQLAlchemy each
row is compiled for, wrapped in a ``Row`` and its times passed through ``UtcDateTime``: about
a third of the read. :class:`DriverSql` runs SQL text on the connection's own driver
(aiosqlite or asyncpg, from ``AsyncConnection.get_raw_connection``) and gives the rows as the
driver makes them (tuples; asyncpg's records), all in one read snapshot.

The SQL is written once with ``?`` placeholders (renumbered ``$1, $2, ...`` for asyncpg) and
:meth:`DriverSql.time` for every time column: SQLite keeps a time as UTC text without an
offset (``2026-01-05 06:33:00.000000``), so the query appends ``+00:00`` and
``datetime.fromisoformat`` gives the aware UTC time in one call; asyncpg already gives an
aware UTC datetime. :meth:`DriverSql.times` is the converter the caller applies to the
values (None: they are datetimes already).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Final, Self

from sqlalchemy.ext.asyncio import AsyncConnection

from cloud.store.schema import crm_requests

__all__ = ["DriverSql"]

_PLACEHOLDER: Final = re.compile(r"\?")
_SQLITE_UTC: Final = " || '+00:00'"

TimeOf = Callable[[Any], datetime]


class DriverSql:
    """One connection's driver: SQL text in, the driver's rows out."""

    __slots__ = ("_bind_time", "_driver", "_postgres")

    def __init__(self, driver: Any, *, postgres: bool, bind_time: Callable[[Any], Any]) -> None:  # noqa: ANN401 - aiosqlite or asyncpg
        self._driver = driver
        self._postgres = postgres
        self._bind_time = bind_time

    @classmethod
    async def of(cls, conn: AsyncConnection) -> Self:
        """The driver under ``conn`` (which must not be in a transaction of its own yet)."""
        raw = await conn.get_raw_connection()
        dialect = conn.dialect
        # The stored form of a time parameter, exactly as SQLAlchemy writes it (SQLite: text).
        process = crm_requests.c.placed_at.type.bind_processor(dialect)
        return cls(
            raw.driver_connection,
            postgres=dialect.name == "postgresql",
            bind_time=process if process is not None else _identity,
        )

    @property
    def postgres(self) -> bool:
        """Whether the database is PostgreSQL (else SQLite)."""
        return self._postgres

    def time(self, column: str) -> str:
        """A time column in a select list, read back as :attr:`times` expects."""
        return column if self._postgres else f"{column}{_SQLITE_UTC}"

    @property
    def times(self) -> TimeOf | None:
        """What makes a value of :meth:`time` an aware UTC datetime (None: it is one)."""
        return None if self._postgres else datetime.fromisoformat

    def param_time(self, value: datetime) -> object:
        """A time as a query parameter, in the form the column stores."""
        return self._bind_time(value)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        """Every query inside reads one state of the database, and writes nothing.

        SQLite (its transactions are explicit on the store's connections): a deferred
        ``BEGIN`` takes a read snapshot at the first select, in WAL mode without blocking
        writers. PostgreSQL: a read-only repeatable-read transaction.
        """
        if self._postgres:
            transaction = self._driver.transaction(isolation="repeatable_read", readonly=True)
            await transaction.start()
            try:
                yield
            finally:
                await transaction.rollback()
            return
        await self._driver.execute("BEGIN")
        try:
            yield
        finally:
            await self._driver.execute("ROLLBACK")

    async def rows(self, sql: str, *params: object) -> Sequence[Sequence[Any]]:
        """The rows of one select, as the driver returns them."""
        if self._postgres:
            counter = itertools.count(1)
            numbered = _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)
            return await self._driver.fetch(numbered, *params)  # type: ignore[no-any-return]
        return await self._driver.execute_fetchall(sql, params)  # type: ignore[no-any-return]


def _identity(value: object) -> object:
    return value
