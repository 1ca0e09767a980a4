"""A PostgreSQL for the tests: the one on 127.0.0.1:5432, else a throwaway server, else a skip.

The server on 127.0.0.1:5432 is used when it takes user ``postgres`` without a password
(trust); each test session makes its own database there and drops it at the end. Otherwise,
where ``initdb`` exists (on PATH, /usr/local/bin, or Debian's /usr/lib/postgresql/NN/bin), a
server is made in a temporary directory on a free port, run as ``nobody`` when the tests run
as root (PostgreSQL refuses root), and stopped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")
LOCAL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Postgres:
    """A reachable server: ``url(db)`` names a database on it."""

    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def run_apart(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on its own loop in a thread (safe beside a test's loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _try(url: str) -> str | None:
    try:
        conn = await asyncio.wait_for(asyncpg.connect(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def admin_sql(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _find_initdb() -> Path | None:
    found = shutil.which("initdb")
    candidates = [Path(found)] if found else []
    candidates.append(Path("/usr/local/bin/initdb"))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return next((path for path in candidates if path.is_file()), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _throwaway_server(initdb: Path) -> Iterator[Postgres]:
    bindir = initdb.parent
    root = Path(tempfile.mkdtemp(prefix="cloud-pg-"))
    data = root / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
        root.chmod(0o700)
        prefix = ["runuser", "-u", "nobody", "--"]
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [*prefix, str(initdb), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
        env=env,
    )
    pg_ctl = bindir / "pg_ctl"
    options = f"-p {port} -k {root} -h 127.0.0.1 -F"
    subprocess.run(
        [
            *prefix,
            str(pg_ctl),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(root / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    try:
        yield Postgres(host="127.0.0.1", port=port, user="postgres")
    finally:
        subprocess.run(
            [*prefix, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            env=env,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres | str]:
    """A server, or the reason there is none (the caller skips with it)."""
    local_error = run_apart(_try(LOCAL))
    if local_error is None:
        yield Postgres(host="127.0.0.1", port=5432, user="postgres")
        return
    initdb = _find_initdb()
    if initdb is None:
        yield (
            f"no PostgreSQL: 127.0.0.1:5432 refused user postgres ({local_error}) "
            "and no initdb was found to start one"
        )
        return
    with _throwaway_server(initdb) as server:
        yield server


@contextlib.contextmanager
def throwaway_database(server: Postgres) -> Iterator[str]:
    """A database made for this session and dropped after it; yields its URL."""
    name = f"cloud_test_{uuid.uuid4().hex[:12]}"
    admin = server.url("postgres")
    run_apart(admin_sql(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield server.url(name)
    finally:
        run_apart(admin_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
