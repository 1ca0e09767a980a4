"""The broker as shipped (deploy/mosquitto/): its config and ACL, run from a test directory.

The test's config is the shipped mosquitto.conf with only its paths, its port and its user
replaced (each replacement must match exactly once, so a changed shipped file fails here
rather than being tested half-applied); the ACL is the shipped one with the blocks that
make-certs.sh printed for the CRMs and support tools appended, as the operator does.
Certificates come from deploy/mosquitto/make-certs.sh itself.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.broker import Broker, find_mosquitto

__all__ = ["DEPLOY", "ShippedBroker", "make_certs", "shipped_config"]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
HOST = "localhost"  # the name in the test server certificate's SAN, as agents would use


def make_certs(pki: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``make-certs.sh -d PKI ARGS...``; its stdout is the ACL block it printed."""
    return subprocess.run(
        [str(DEPLOY / "make-certs.sh"), "-d", str(pki), *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def shipped_config(*, port: int, pki: Path, acl: Path, workdir: Path) -> str:
    """The shipped mosquitto.conf pointed at the test's files and port."""
    fiscal = "/etc/mosquitto/fiscal/"
    server = pki / "servers" / HOST
    replacements = [
        (f"acl_file {fiscal}acl\n", f"acl_file {acl}\n"),
        (f"cafile {fiscal}ca.crt\n", f"cafile {pki / 'ca' / 'ca.crt'}\n"),
        (f"certfile {fiscal}server.crt\n", f"certfile {server / 'server.crt'}\n"),
        (f"keyfile {fiscal}server.key\n", f"keyfile {server / 'server.key'}\n"),
        (f"crlfile {fiscal}crl.pem\n", f"crlfile {pki / 'ca' / 'crl.pem'}\n"),
        ("persistence_location /var/lib/mosquitto/\n", f"persistence_location {workdir}/\n"),
        (
            "log_dest file /var/log/mosquitto/mosquitto.log\n",
            f"log_dest file {workdir / 'mosquitto.log'}\n",
        ),
        ("\nlistener 8883\n", f"\nlistener {port} 127.0.0.1\n"),
        # As root it would become the mosquitto user, who cannot read the test's directory.
        ("\nuser mosquitto\n", "\nuser root\n" if os.geteuid() == 0 else "\nuser mosquitto\n"),
    ]
    text = (DEPLOY / "mosquitto.conf").read_text()
    for old, new in replacements:
        count = text.count(old)
        if count != 1:
            msg = f"deploy/mosquitto/mosquitto.conf has {old.strip()!r} {count} times, not once"
            raise AssertionError(msg)
        text = text.replace(old, new)
    return text


class ShippedBroker(Broker):
    """Mosquitto with the shipped config on a free port of 127.0.0.1 (TLS only).

    Args:
        workdir: the config, ACL, log and persistence go here.
        pki: a make-certs.sh directory with a server certificate for ``localhost``.
        acl_blocks: lines to append to the shipped ACL (make-certs.sh's printed blocks).
    """

    def __init__(self, workdir: Path, *, pki: Path, acl_blocks: str = "") -> None:
        super().__init__(workdir, kind="mosquitto")
        self.pki = None  # the base class's test PKI: not used, the shipped listener is TLS
        self.certs = pki
        self.acl = workdir / "acl"
        self.acl.write_text((DEPLOY / "acl").read_text() + "\n" + acl_blocks)

    @property
    def url(self) -> str:
        """``mqtts://localhost:PORT``: the only listener."""
        return f"mqtts://{HOST}:{self.port}"

    @property
    def tls_url(self) -> str:
        """The same as ``url``: there is no plain listener."""
        return self.url

    def _mosquitto_command(self) -> list[str]:
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            shipped_config(port=self.port, pki=self.certs, acl=self.acl, workdir=self.workdir)
        )
        binary = find_mosquitto()
        assert binary is not None  # the base class checked
        return [str(binary), "-c", str(conf)]
