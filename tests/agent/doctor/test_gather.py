"""Gathering on this machine: the port, the disk, a silent agent's process, the health URL."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import AgentConfig
from agent.doctor.checks import check_disk
from agent.doctor.facts import PortKind, PortOutcome
from agent.doctor.findings import Status
from agent.doctor.gather import find_agent_process, health_url, probe_disk, probe_port
from tests.support.doctor_facts import LIMITS
from tests.support.processes import free_port, wait_until
from tests.support.small_disk import small_disk

NOBODY = 65534


def _config(listen: str) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "club": "c",
            "agent": "a",
            "register": {"url": "/dev/ttyACM0"},
            "tax": {"top_up": "osn", "service": "osn", "goods": "osn"},
            "http": {"listen": listen},
        }
    )


@pytest.mark.parametrize(
    ("listen", "url"),
    [
        ("127.0.0.1:8750", "http://127.0.0.1:8750/api/v1/health"),
        ("0.0.0.0:8750", "http://127.0.0.1:8750/api/v1/health"),
        ("[::1]:9000", "http://[::1]:9000/api/v1/health"),
        ("[::]:9000", "http://[::1]:9000/api/v1/health"),
    ],
)
def test_health_url_asks_a_wildcard_on_loopback(listen: str, url: str) -> None:
    """The agent listening on every address is asked on loopback."""
    assert health_url(_config(listen)) == url


async def test_probe_port_device_present_missing_and_in_use(tmp_path: Path) -> None:
    """A device path that exists: OK; one that does not: MISSING; the agent's: not touched."""
    device = tmp_path / "ttyACM0"
    device.touch()
    present = await probe_port(str(device), is_agent_linked=False)
    assert (present.kind, present.outcome) == (PortKind.DEVICE, PortOutcome.OK)
    missing = await probe_port(str(tmp_path / "ttyACM9"), is_agent_linked=False)
    assert missing.outcome is PortOutcome.MISSING
    held = await probe_port(str(tmp_path / "ttyACM9"), is_agent_linked=True)
    assert held.outcome is PortOutcome.IN_USE_BY_AGENT
    other = await probe_port("rfc2217://10.0.0.5:2217", is_agent_linked=False)
    assert (other.kind, other.outcome) == (PortKind.OTHER, PortOutcome.NOT_CHECKED)


@pytest.fixture
def private_device() -> Iterator[Path]:
    """A root-owned file of mode 600 in a directory anyone may enter."""
    directory = Path(tempfile.mkdtemp(prefix="doctor-port-", dir="/tmp"))
    directory.chmod(0o755)
    device = directory / "ttyUSB0"
    device.touch(mode=0o600)
    yield device
    shutil.rmtree(directory)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the probe as another user")
def test_probe_port_no_permission_for_another_user(private_device: Path) -> None:
    """As user nobody, a root-only device is there but not usable: NO_PERMISSION, named."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become nobody, probe, report through the pipe
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            facts = asyncio.run(probe_port(str(private_device), is_agent_linked=False))
            os.write(write_end, f"{facts.outcome.value} {facts.user}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(pid, 0)
    outcome, user = answer.split()
    assert outcome == "no_permission"
    assert user in {"nobody", str(NOBODY)}


async def test_probe_port_tcp_accepts_or_refuses() -> None:
    """socket:// where something listens: OK; where nothing does: UNREACHABLE with the reason."""
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        listening = await probe_port(f"socket://127.0.0.1:{port}", is_agent_linked=False)
    finally:
        server.close()
        await server.wait_closed()
    assert (listening.kind, listening.outcome) == (PortKind.TCP, PortOutcome.OK)
    closed = await probe_port(f"socket://127.0.0.1:{free_port()}", is_agent_linked=False)
    assert (closed.outcome, closed.detail) == (PortOutcome.UNREACHABLE, "Connection refused")


def test_probe_disk_measures_the_nearest_existing_directory(tmp_path: Path) -> None:
    """A state_dir the agent has not made yet is measured where it will be."""
    facts = probe_disk(tmp_path / "not" / "yet")
    assert facts.path == str(tmp_path)
    assert facts.free_bytes is not None
    assert facts.free_bytes > 0


def test_probe_disk_on_a_small_real_disk_fails(tmp_path: Path) -> None:
    """A 1 MiB tmpfs as state_dir: under 20 MB free, FAIL; the agent cannot store payments."""
    with small_disk(tmp_path / "state") as disk:
        facts = probe_disk(disk.path)
        assert facts.free_bytes is not None
        assert facts.free_bytes <= 1024 * 1024
        assert check_disk(facts, LIMITS).status is Status.FAIL


def _proc_entry(proc: Path, pid: int, args: list[str], cwd: Path) -> None:
    entry = proc / str(pid)
    entry.mkdir(parents=True)
    (entry / "cmdline").write_bytes(b"\0".join(arg.encode() for arg in args) + b"\0")
    (entry / "cwd").symlink_to(cwd)


def test_find_agent_process_matches_the_same_settings_only(tmp_path: Path) -> None:
    """`fiscal-agent run --config` of these settings (relative to its cwd) is found; others not."""
    etc = tmp_path / "etc"
    etc.mkdir()
    config = etc / "agent.toml"
    config.touch()
    (etc / "other.toml").touch()
    proc = tmp_path / "proc"
    python = "/opt/fiscal-edge/.venv/bin/python3"
    script = "/opt/fiscal-edge/.venv/bin/fiscal-agent"
    _proc_entry(proc, 10, [python, script, "status", "--config", str(config)], tmp_path)
    _proc_entry(proc, 11, [python, script, "run", "--config", str(etc / "other.toml")], tmp_path)
    _proc_entry(proc, 12, ["/usr/bin/vim", str(config)], tmp_path)
    (proc / "self").mkdir()
    assert find_agent_process(config, proc) is None
    _proc_entry(proc, 13, [python, script, "run", "--config", "agent.toml"], etc)
    assert find_agent_process(config, proc) == 13
    assert find_agent_process(tmp_path / "missing.toml", proc) is None


def test_find_agent_process_on_this_machine_finds_a_real_one(tmp_path: Path) -> None:
    """On the real /proc: a sleeping stand-in named fiscal-agent with `run --config` is found."""
    config = tmp_path / "agent.toml"
    config.touch()
    stand_in = tmp_path / "fiscal-agent"
    stand_in.write_text("#!/bin/sh\nexec sleep 30\n")
    stand_in.chmod(0o755)
    process = subprocess.Popen(  # sh keeps its argv in /proc until exec replaces it: use python
        [sys.executable, "-c", "import time; time.sleep(30)", str(stand_in), "run", "--config",
         str(config)],
    )  # fmt: skip
    try:
        # Popen returns once the child's exec has begun; the kernel sets the new command line
        # up a moment later, so on a busy machine the first look may still find none.
        found = wait_until(
            lambda: find_agent_process(config), timeout_s=5, interval_s=0.01, what="the stand-in"
        )
        assert found == process.pid
    finally:
        process.kill()
        process.wait()
