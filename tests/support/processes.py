"""Real processes for scenario tests: the simulator on a pty and the agent as a service."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[Any] | None, timeout_s: float) -> None:
    """SIGTERM and wait ``timeout_s``; SIGKILL if it is still there (a running process only)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout_s)


def wait_until(
    predicate: Any, *, timeout_s: float, interval_s: float = 0.05, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)
    msg = f"timed out after {timeout_s} s waiting for {what or predicate}; last value {last!r}"
    raise TimeoutError(msg)


def http(
    method: str, url: str, body: object | None = None, timeout_s: float = 10.0
) -> tuple[int, Any]:
    """One JSON request; returns (status, decoded body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - local test URL
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


@dataclass
class SimProcess:
    """A ``firmware-sim serve`` child process of either front end, and its control API."""

    state_file: Path
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    url: str = ""
    control: str = ""
    log_file: Path | None = None

    def _launch(self, front_end: list[str], control: str, log_suffix: str) -> None:
        """Start ``serve`` with the front end's flags; read its URL and the control URL."""
        self.log_file = self.state_file.with_suffix(log_suffix)
        log = self.log_file.open("a")
        self.proc = subprocess.Popen(
            [
                str(BIN / "firmware-sim"),
                "serve",
                *front_end,
                "--state",
                str(self.state_file),
                "--control",
                control,
                *self.extra_args,
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        control_line = self.proc.stdout.readline().strip()
        assert control_line.startswith("control "), f"simulator printed {control_line!r}"
        self.control = control_line.removeprefix("control ")

    def post(self, path: str, body: object | None = None) -> Any:
        """Call the control API."""
        status, answer = http("POST", f"{self.control}{path}", body if body is not None else {})
        assert status == 200, (path, status, answer)
        return answer

    def state(self) -> Any:
        """GET the control API's state."""
        return http("GET", f"{self.control}/state")[1]

    def tape(self) -> list[dict[str, Any]]:
        """The FN tape as ``firmware-sim tape`` prints it."""
        out = subprocess.run(
            [str(BIN / "firmware-sim"), "tape", "--state", str(self.state_file)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def stop(self) -> None:
        """Terminate it (the state file stays)."""
        stop_process(self.proc, timeout_s=5)
        self._close()

    def _close(self) -> None:
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()


@dataclass
class Simulator(SimProcess):
    """``firmware-sim serve --pty --state FILE --control 127.0.0.1:0`` as a child process."""

    def start(self) -> Simulator:
        """Start it and read the pty path and the control URL from its stdout."""
        self._launch(["--pty"], "127.0.0.1:0", ".sim.log")
        assert self.url.startswith("/dev/"), f"simulator printed {self.url!r}"
        return self


PROTOCOLS = ("shtrih", "atol")
"""The register protocols a scenario can run on (``[register] protocol``)."""

AGENT_PROTOCOLS = (*PROTOCOLS, "smartone")
"""Every protocol :class:`Agent` can be configured for; SmartOne (an Azerbaijani cashbox,
Baku time) has scenarios of its own rather than the shared ``PROTOCOLS`` ones."""

REGISTER_TZ = {"shtrih": "Europe/Moscow", "atol": "Europe/Moscow", "smartone": "Asia/Baku"}
"""``[register] tz`` per protocol: the zone firmware-sim's front end keeps its clock in."""


@dataclass
class Agent:
    """``fiscal-agent run --config FILE`` as a child process, with its local HTTP API.

    ``protocol`` is ``[register] protocol``: for ``shtrih`` ``register_url`` is the register's
    serial line (``[register] url``), for ``atol`` the ATOL web server (``[atol] url``, with
    ``settings["atol"]`` as the rest of that section), for ``smartone`` the cashbox
    (``[smartone] url``, with ``settings["smartone"]``, its ``merchant_id`` included, as the
    rest of that section).
    """

    workdir: Path
    register_url: str
    protocol: str = "shtrih"
    settings: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def base(self) -> str:
        """The HTTP API's base URL."""
        return f"http://127.0.0.1:{self.port}/api/v1"

    def write_config(self) -> Path:
        """agent.toml for this test."""
        self.port = self.port or free_port()
        shift = self.settings.get("shift", {})
        worker = self.settings.get("worker", {})
        mqtt = self.settings.get("mqtt", {})
        assert self.protocol in AGENT_PROTOCOLS, self.protocol
        is_az = self.protocol == "smartone"  # a SmartOne cashbox fiscalises in Azerbaijan
        tax = ["[tax]", *(f'{k} = "usn_income"' for k in ("top_up", "service", "goods"))]
        lines = [
            'club = "club-1"',
            'agent = "desk-1"',
            f'country = "{"AZ" if is_az else "RU"}"',
            f'state_dir = "{self.workdir}"',
            "[register]",
            *self._register_lines(),
            # firmware-sim keeps Moscow time, as a register in a Moscow club would (Baku time
            # as a SmartOne cashbox).
            f'tz = "{REGISTER_TZ[self.protocol]}"',
            "[mqtt]",
            *(f"{k} = {_toml(v)}" for k, v in {"url": "mqtt://127.0.0.1:1", **mqtt}.items()),
            "[http]",
            f'listen = "127.0.0.1:{self.port}"',
            "[shift]",
            *(f'{k} = "{v}"' for k, v in shift.items()),
            *([] if is_az else tax),  # no tax system in Azerbaijan (docs/country-profiles.md)
            "[cashier]",
            'name = "Администратор"',
            "[worker]",
            *(f"{k} = {v}" for k, v in worker.items()),
            "[outbox]",
            *(f"{k} = {_toml(v)}" for k, v in self.settings.get("outbox", {}).items()),
            "[receipts]",
            *(f"{k} = {_toml(v)}" for k, v in self.settings.get("receipts", {}).items()),
            "[log]",
            'level = "debug"',
            'format = "json"',
        ]
        if self.protocol == "atol":
            atol = {
                "url": self.register_url,
                "poll_interval_s": 0.05,
                **self.settings.get("atol", {}),
            }
            lines += ["[atol]", *(f"{k} = {_toml(v)}" for k, v in atol.items())]
        if self.protocol == "smartone":
            smartone = {"url": self.register_url, **self.settings.get("smartone", {})}
            lines += ["[smartone]", *(f"{k} = {_toml(v)}" for k, v in smartone.items())]
        if "kkmserver" in self.settings:  # the KkmServer-compatible API (docs/kkmserver.md)
            lines += ["[kkmserver]"]
            lines += [f"{k} = {_toml(v)}" for k, v in self.settings["kkmserver"].items()]
        path = self.workdir / "agent.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _register_lines(self) -> list[str]:
        """``[register]``'s url (Shtrih only: ATOL's web server is ``[atol] url``) and protocol."""
        if self.protocol in ("atol", "smartone"):
            return [f'protocol = "{self.protocol}"']
        return [f'url = "{self.register_url}"', 'protocol = "shtrih"']

    def start(self, *, wait: bool = True) -> Agent:
        """Start the agent and wait until its HTTP API answers."""
        config = self.write_config()
        log = (self.workdir / "agent.log").open("ab")
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(
            [str(BIN / "fiscal-agent"), "run", "--config", str(config)],
            stdout=log,
            stderr=log,
            env=env,
        )
        if wait:
            wait_until(self._answers, timeout_s=20, what="the agent's HTTP API")
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            msg = f"agent exited with {self.proc.returncode}; see {self.workdir / 'agent.log'}"
            raise RuntimeError(msg)
        try:
            return http("GET", f"{self.base}/health", timeout_s=2)[0] == 200
        except OSError:
            return False

    def answers_quickly(self) -> bool:
        """Whether its HTTP API answers ``/health`` at once (a short look, never a wait)."""
        try:
            return http("GET", f"{self.base}/health", timeout_s=0.5)[0] == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as a power loss of the Pi."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """SIGTERM and wait."""
        stop_process(self.proc, timeout_s=10)

    def log_records(self) -> list[dict[str, Any]]:
        """Every JSON record in the agent's log, across all its restarts.

        A SIGKILL can cut a line mid-write, and the next process appends its first record to
        that torn line; the torn part is skipped and the whole records on the line are kept.
        """
        decoder = json.JSONDecoder()
        records: list[dict[str, Any]] = []
        for line in (self.workdir / "agent.log").read_text().splitlines():
            pos = line.find("{")
            while pos != -1:
                try:
                    record, end = decoder.raw_decode(line, pos)
                except json.JSONDecodeError:
                    pos = line.find('{"', pos + 1)
                    continue
                if isinstance(record, dict):
                    records.append(record)
                pos = line.find("{", end)
        return records

    def events(self) -> list[str]:
        """The ``event`` of every log record, in order."""
        return [str(record.get("event", "")) for record in self.log_records()]

    def is_alive(self) -> bool:
        """The process is still running."""
        return self.proc is not None and self.proc.poll() is None


def _toml(value: object) -> str:
    """A TOML value for a config line: strings quoted, numbers and booleans as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
