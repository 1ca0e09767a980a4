"""Opening the database: the URL, the async engine, and the schema migrated on open.

``sqlite:///path`` (the default: one file, created with its directory) runs on aiosqlite and
``postgresql://user@host/db`` on asyncpg; a URL that already names one of those drivers is
taken as it is.

Why a version table and not Alembic, for now: the steps are plain ``CREATE``, ``ADD COLUMN``
and a backfill. ``MIGRATIONS`` maps each version to the step that reaches it from the one
before; on open the store reads ``schema_version``, runs the missing steps in one transaction
(PostgreSQL's DDL is transactional, and SQLite's too), and refuses a database newer than
itself. Concurrent opens by several cloud instances are serialised by a transaction-scoped
advisory lock on PostgreSQL and by ``BEGIN IMMEDIATE`` on SQLite. When the steps grow past
that, Alembic can take over from this table's version.

- 1: the tables as first released (today's minus :data:`cloud.store.schema.ADDED_IN_V2`);
- 2: the typed columns the reconciliation reads, filled from each stored payload
  (cloud.store.backfill), and the indexes that read one shift.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Column, MetaData, Table, UniqueConstraint, event, insert, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from cloud.store.backfill import backfill_v2
from cloud.store.errors import StoreTooNew, StoreUrlError
from cloud.store.schema import ADDED_IN_V2, SCHEMA_VERSION, metadata, schema_version

__all__ = ["MIGRATIONS", "async_url", "create_engine", "migrate"]

_DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ASYNC: Final = frozenset(_DRIVERS.values())
_MIGRATION_LOCK: Final = 0x66697363  # "fisc": the advisory lock id of schema migrations
_SQLITE_BUSY_MS: Final = 10_000


def async_url(url: str) -> URL:
    """The async driver URL for a ``[store] url``; :class:`StoreUrlError` for anything else."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreUrlError(f"store url {url!r} is not a database URL") from exc
    name = parsed.drivername
    if name in _ASYNC:
        return parsed
    if name in _DRIVERS:
        return parsed.set(drivername=_DRIVERS[name])
    raise StoreUrlError(
        f"store url {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite:///path or postgresql://user@host/db"
    )


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """Let SQLAlchemy own SQLite's transactions and take the write lock at BEGIN.

    pysqlite (and aiosqlite over it) would begin a transaction only at the first write, so a
    read-then-write such as the health ordering could interleave with another process; with
    BEGIN IMMEDIATE each transaction is one whole step.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:  # noqa: ANN401
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; a SQLite file's directory is created when missing."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        if target.database and target.database != ":memory:":
            Path(target.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(target)
        _sqlite_transactions(engine)
        return engine
    return create_async_engine(target, pool_pre_ping=True)


def _v1_metadata() -> MetaData:
    """The tables of schema version 1: today's without the columns and indexes v2 added."""
    v1 = MetaData()
    for table in metadata.sorted_tables:
        added = ADDED_IN_V2.get(table.name, ())
        columns: list[Column[Any]] = [
            Column(
                col.name,
                col.type,
                primary_key=col.primary_key,
                autoincrement=col.autoincrement,
                nullable=col.nullable,
            )
            for col in table.c
            if col.name not in added
        ]
        uniques = [
            UniqueConstraint(*(col.name for col in constraint.columns), name=constraint.name)
            for constraint in table.constraints
            if isinstance(constraint, UniqueConstraint)
        ]
        Table(table.name, v1, *columns, *uniques)
    return v1


async def _create_v1(conn: AsyncConnection) -> None:
    await conn.run_sync(_v1_metadata().create_all)


async def _add_v2(conn: AsyncConnection) -> None:
    """Add the typed columns, fill them from the payloads, then index."""
    for table in metadata.sorted_tables:
        for name in ADDED_IN_V2.get(table.name, ()):
            column = table.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            await conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}")
    await backfill_v2(conn)

    def create_indexes(sync: Connection) -> None:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(sync, checkfirst=True)

    await conn.run_sync(create_indexes)


MIGRATIONS: Final[dict[int, Callable[[AsyncConnection], Awaitable[None]]]] = {
    1: _create_v1,
    2: _add_v2,
}
"""Version N -> the step from N-1 to N."""


async def _stored_version(conn: AsyncConnection) -> int:
    has_table = await conn.run_sync(lambda sync: sync.dialect.has_table(sync, schema_version.name))
    if not has_table:
        return 0
    version = (await conn.execute(select(schema_version.c.version))).scalar()
    return int(version) if version is not None else 0


async def migrate(engine: AsyncEngine) -> int:
    """Bring the database to :data:`SCHEMA_VERSION`; return the version it was at."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
        found = await _stored_version(conn)
        if found > SCHEMA_VERSION:
            raise StoreTooNew(
                f"the database is at schema version {found}; this cloud knows {SCHEMA_VERSION}"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            await MIGRATIONS[version](conn)
        if found == 0:
            await conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
        elif found < SCHEMA_VERSION:
            await conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    return found
