"""deploy/mosquitto/make-certs.sh: the CA made once, names checked, keys private, CNs exact.

The broker's behaviour with these certificates is tests/deploy/test_mosquitto_acl.py's; here
is what the script writes.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.pki import has_openssl
from tests.support.shipped_broker import make_certs

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not has_openssl(), reason="make-certs.sh runs the openssl command"),
]


def openssl(*args: str | Path) -> str:
    return subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_ca_is_made_once_and_never_replaced(tmp_path: Path) -> None:
    """Running again keeps the CA's key and certificate byte for byte, and issued certificates."""
    pki = tmp_path / "pki"
    make_certs(pki, "ca")
    key, cert = (pki / "ca" / "ca.key").read_bytes(), (pki / "ca" / "ca.crt").read_bytes()
    make_certs(pki, "agent", "club-1", "desk-1")
    issued = (pki / "agents" / "club-1" / "desk-1" / "client.crt").read_bytes()

    make_certs(pki, "ca")
    again = make_certs(pki, "agent", "club-1", "desk-1")
    assert "kept" in again.stderr
    assert (pki / "ca" / "ca.key").read_bytes() == key
    assert (pki / "ca" / "ca.crt").read_bytes() == cert
    assert (pki / "agents" / "club-1" / "desk-1" / "client.crt").read_bytes() == issued


def test_a_ca_key_without_its_certificate_is_left_alone(tmp_path: Path) -> None:
    """Half a CA is an operator's problem to look at, not something to paper over."""
    ca = tmp_path / "pki" / "ca"
    ca.mkdir(parents=True)
    (ca / "ca.key").write_text("the operator's key\n")
    done = make_certs(tmp_path / "pki", "agent", "club-1", "desk-1", check=False)
    assert done.returncode != 0
    assert "not touching it" in done.stderr
    assert (ca / "ca.key").read_text() == "the operator's key\n"
    assert not (ca / "ca.crt").exists()


def test_keys_are_private_and_certificates_readable(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    make_certs(pki, "server", "broker.example", "10.0.0.5")
    make_certs(pki, "agent", "club-1", "desk-1")
    make_certs(pki, "crm", "club-1")
    keys = sorted(pki.rglob("*.key"))
    assert [k.relative_to(pki).as_posix() for k in keys] == [
        "agents/club-1/desk-1/client.key",
        "ca/ca.key",
        "clients/crm:club-1/client.key",
        "servers/broker.example/server.key",
    ]
    assert {mode(k) for k in keys} == {0o600}
    assert {mode(c) for c in pki.rglob("*.crt")} == {0o644}


def test_each_identity_gets_its_cn_and_only_its_purpose(tmp_path: Path) -> None:
    """The agent's CN is one RDN "club/agent"; clients may only be clients, the broker a server."""
    pki = tmp_path / "pki"
    make_certs(pki, "server", "broker.example", "10.0.0.5")
    make_certs(pki, "agent", "club-1", "desk-1")
    ca = pki / "ca" / "ca.crt"
    agent = pki / "agents" / "club-1" / "desk-1" / "client.crt"
    server = pki / "servers" / "broker.example" / "server.crt"

    subject = openssl("x509", "-in", agent, "-noout", "-subject", "-nameopt", "RFC2253")
    assert subject.strip() == "subject=CN=club-1/desk-1"
    assert "TLS Web Client Authentication" in openssl("x509", "-in", agent, "-noout", "-text")
    openssl("verify", "-CAfile", ca, "-purpose", "sslclient", agent)
    with pytest.raises(subprocess.CalledProcessError):
        openssl("verify", "-CAfile", ca, "-purpose", "sslserver", agent)

    text = openssl("x509", "-in", server, "-noout", "-ext", "subjectAltName")
    assert "DNS:broker.example" in text
    assert "IP Address:10.0.0.5" in text
    openssl("verify", "-CAfile", ca, "-purpose", "sslserver", server)
    with pytest.raises(subprocess.CalledProcessError):
        openssl("verify", "-CAfile", ca, "-purpose", "sslclient", server)


@pytest.mark.parametrize(
    "args",
    [
        ("agent", "club/1", "desk-1"),
        ("agent", "club-1", "desk+"),
        ("agent", "club-1", "#"),
        ("agent", "club-1", ""),
        ("agent", "club-1", "evt"),  # would alias the acl's patterns for a one-level CN
        ("agent", "club-1", "cmd"),
        ("crm", "club:1"),
        ("support", "a b"),
        ("agent", "club-1"),
    ],
)
def test_names_that_would_bend_the_acl_are_refused(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = make_certs(tmp_path / "pki", *args, check=False)
    assert done.returncode == 2, done.stderr
    assert not (tmp_path / "pki" / "agents").exists()
    assert not (tmp_path / "pki" / "clients").exists()


def test_crm_cloud_and_support_blocks_name_their_scope(tmp_path: Path) -> None:
    """Each non-agent identity comes with its acl block, printed and kept beside it."""
    pki = tmp_path / "pki"
    crm = make_certs(pki, "crm", "club-7").stdout
    assert "user crm:club-7\n" in crm
    assert "topic write fiscal/v1/club-7/+/cmd/#\n" in crm
    assert "club-1" not in crm
    assert (pki / "clients" / "crm:club-7" / "acl").read_text() == crm

    make_certs(pki, "cloud")
    assert not (pki / "clients" / "cloud" / "acl").exists(), "the shipped acl has its block"
    assert (pki / "clients" / "cloud" / "client.crt").exists()
    cloud = make_certs(pki, "cloud", "b").stdout
    assert "user cloud:b\n" in cloud
    assert "topic write fiscal/v1/+/+/cmd/receipt\n" in cloud
    assert "cmd/cash" not in cloud

    support = make_certs(pki, "support", "alice").stdout
    assert "user support:alice\ntopic read fiscal/v1/+/+/health\n" in support


def test_revoke_lists_the_certificate_in_the_crl(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    make_certs(pki, "agent", "club-1", "desk-1")
    cert = pki / "agents" / "club-1" / "desk-1" / "client.crt"
    serial = openssl("x509", "-in", cert, "-noout", "-serial").strip().removeprefix("serial=")
    assert serial not in openssl("crl", "-in", pki / "ca" / "crl.pem", "-noout", "-text")

    make_certs(pki, "revoke", "club-1/desk-1")
    crl = openssl("crl", "-in", pki / "ca" / "crl.pem", "-noout", "-text")
    assert serial in crl
    openssl("crl", "-in", pki / "ca" / "crl.pem", "-noout", "-CAfile", pki / "ca" / "ca.crt")
