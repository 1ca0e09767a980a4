"""cloud.app.run_cloud serves the API over the configured store on the configured address."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import aiohttp

from cloud.app import run_cloud
from cloud.config import load_config
from tests.cloud.api.conftest import CRM, bearer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_run_serves_healthz_and_the_api_over_a_new_sqlite_file(tmp_path: Path) -> None:
    port = _free_port()
    path = tmp_path / "cloud.toml"
    path.write_text(
        '[mqtt]\nlocal_listen = ""\n'  # the API alone: tests/cloud/test_local_broker.py
        f'[store]\nurl = "sqlite:///{tmp_path / "state" / "cloud.db"}"\n'
        f'[http]\nlisten = "127.0.0.1:{port}"\n[auth]\ncrm_token = "{CRM}"\n',
        encoding="utf-8",
    )
    (tmp_path / "state").mkdir()
    task = asyncio.create_task(run_cloud(load_config(path, {})))
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get("/healthz") as resp:
                        assert resp.status == 200
                        break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the API never listened")
            async with http.get("/api/v1/agents") as resp:
                assert resp.status == 401
            async with http.get("/api/v1/agents", headers=bearer(CRM)) as resp:
                assert resp.status == 200
                assert (await resp.json()) == {"agents": []}
        assert (tmp_path / "state" / "cloud.db").exists()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
