"""A throwaway certificate authority for TLS tests: a CA, a server and a client certificate.

Made with the ``openssl`` command line (the ``cryptography`` package is not a dependency).
The server certificate names 127.0.0.1 and localhost; every certificate carries the
extensions a strict verifier wants (key identifiers, key usage, extended key usage).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Pki", "has_openssl", "make_pki"]

_DAYS = "2"
_CA_EXTENSIONS = """\
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""
_LEAF_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
extendedKeyUsage = {usage}
{alt_names}
"""


@dataclass(frozen=True, slots=True)
class Pki:
    """Paths of the PEM files."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_cert: Path  # a CA that signed nothing here: verifying against it fails


def has_openssl() -> bool:
    """Whether the ``openssl`` command is there."""
    return shutil.which("openssl") is not None


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)


def _key(path: Path) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert, ext = directory / f"{name}.key", directory / f"{name}.crt", directory / f"{name}.ext"
    _key(key)
    ext.write_text(_CA_EXTENSIONS)
    csr = directory / f"{name}.csr"
    _openssl("req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", csr)
    _openssl(
        "x509", "-req", "-in", csr, "-signkey", key, "-days", _DAYS, "-sha256",
        "-extfile", ext, "-out", cert,
    )  # fmt: skip
    return key, cert


def _leaf(
    directory: Path, name: str, *, ca_key: Path, ca_cert: Path, usage: str, alt_names: str
) -> tuple[Path, Path]:
    key, cert, ext = directory / f"{name}.key", directory / f"{name}.crt", directory / f"{name}.ext"
    _key(key)
    ext.write_text(_LEAF_EXTENSIONS.format(usage=usage, alt_names=alt_names))
    csr = directory / f"{name}.csr"
    _openssl("req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", csr)
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
        "-days", _DAYS, "-sha256", "-extfile", ext, "-out", cert,
    )  # fmt: skip
    return key, cert


def make_pki(directory: Path) -> Pki:
    """Create the CA, a server certificate for 127.0.0.1 and a client certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca(directory, "test-ca")
    server_key, server_cert = _leaf(
        directory,
        "server",
        ca_key=ca_key,
        ca_cert=ca_cert,
        usage="serverAuth",
        alt_names="subjectAltName = IP:127.0.0.1, DNS:localhost",
    )
    client_key, client_cert = _leaf(
        directory, "client", ca_key=ca_key, ca_cert=ca_cert, usage="clientAuth", alt_names=""
    )
    _other_key, other_ca_cert = _ca(directory, "other-ca")
    return Pki(
        ca_cert=ca_cert,
        server_cert=server_cert,
        server_key=server_key,
        client_cert=client_cert,
        client_key=client_key,
        other_ca_cert=other_ca_cert,
    )
