"""The broker check against a real Mosquitto: plain, TLS, and certificates that are wrong.

Mosquitto's TLS listener wants a client certificate (``require_certificate true``). Expired
certificates are made with ``openssl x509 -days -1`` (valid until yesterday), signed by the
test CA, so the only thing wrong with them is their date.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from agent.config import AgentConfig
from agent.doctor.broker_probe import probe_broker
from agent.doctor.checks import check_broker
from agent.doctor.facts import BrokerOutcome
from agent.doctor.findings import Status
from tests.support.broker import Broker, BrokerFactory, BrokerUnavailable, find_mosquitto
from tests.support.doctor_facts import read
from tests.support.pki import Pki, has_openssl, make_pki
from tests.support.processes import free_port

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]

_LEAF_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
extendedKeyUsage = {usage}
{alt_names}
"""


def _config(url: str, **mqtt: object) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "club": "club-1",
            "agent": "desk-1",
            "register": {"url": "/dev/null"},
            "tax": {"top_up": "osn", "service": "osn", "goods": "osn"},
            "mqtt": {"url": url, **mqtt},
        }
    )


def _tls(pki: Pki, **changes: object) -> dict[str, object]:
    files: dict[str, object] = {"ca": pki.ca_cert, "cert": pki.client_cert, "key": pki.client_key}
    return {**files, **changes}


def _expired_leaf(
    directory: Path, name: str, *, usage: str, alt_names: str = ""
) -> tuple[Path, Path]:
    """A certificate signed by the test CA that expired yesterday, and its key."""
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    ext, csr = directory / f"{name}.ext", directory / f"{name}.csr"
    ext.write_text(_LEAF_EXTENSIONS.format(usage=usage, alt_names=alt_names))

    def openssl(*args: object) -> None:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)

    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    openssl("req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", csr)
    openssl(
        "x509", "-req", "-in", csr, "-CA", directory / "test-ca.crt", "-CAkey",
        directory / "test-ca.key", "-CAcreateserial", "-days", "-1", "-sha256",
        "-extfile", ext, "-out", cert,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    if not has_openssl():
        pytest.skip("the TLS tests make their certificates with the openssl command")
    return make_pki(tmp_path / "pki")


@pytest.fixture
def tls_broker(broker_factory: BrokerFactory) -> Broker:
    return broker_factory(tls=True)


async def test_probe_broker_plain_answers_and_unreachable(broker: Broker) -> None:
    """mqtt:// that accepts: PASS; a port nobody listens on: WARN with the OS's reason."""
    facts = await probe_broker(_config(broker.url))
    assert facts.outcome is BrokerOutcome.OK
    gone = await probe_broker(_config(f"mqtt://127.0.0.1:{free_port()}"))
    assert (gone.outcome, gone.detail) == (BrokerOutcome.UNREACHABLE, "Connection refused")
    assert check_broker(gone).status is Status.WARN


async def test_probe_broker_tls_with_the_right_files(tls_broker: Broker) -> None:
    """mqtts:// with the CA, the client certificate and key: the handshake passes."""
    assert tls_broker.pki is not None
    facts = await probe_broker(_config(tls_broker.tls_url, **_tls(tls_broker.pki)))
    assert facts.outcome is BrokerOutcome.OK, facts.detail
    assert read(check_broker(facts))[0].endswith("answers and its certificate is in order")


async def test_probe_broker_server_signed_by_another_ca(tls_broker: Broker) -> None:
    """Our CA file did not sign the broker's certificate: untrusted, said plainly."""
    pki = tls_broker.pki
    assert pki is not None
    facts = await probe_broker(_config(tls_broker.tls_url, **_tls(pki, ca=pki.other_ca_cert)))
    assert facts.outcome is BrokerOutcome.SERVER_CERT_UNTRUSTED, facts.detail
    finding = check_broker(facts)
    assert finding.status is Status.FAIL
    text, advice = read(finding)
    assert text.startswith("the server's certificate is not trusted")
    assert "[mqtt] ca in the settings does not match" in advice[0]
    assert read(finding, "ru")[0].startswith("сертификату сервера нет доверия")


async def test_probe_broker_client_certificate_of_another_ca(tls_broker: Broker) -> None:
    """The broker refuses a client certificate its CA did not sign (its alert is read)."""
    pki = tls_broker.pki
    assert pki is not None
    other = pki.ca_cert.parent / "stranger"
    other.mkdir()
    stranger = make_pki(other)
    facts = await probe_broker(
        _config(
            tls_broker.tls_url,
            **_tls(pki, cert=stranger.client_cert, key=stranger.client_key),
        )
    )
    assert facts.outcome is BrokerOutcome.CLIENT_CERT_REFUSED, facts.detail


async def test_probe_broker_expired_server_certificate(tmp_path: Path, pki: Pki) -> None:
    """The broker's certificate expired yesterday: 'has expired', not a generic TLS error."""
    if find_mosquitto() is None:
        pytest.skip("TLS brokers are Mosquitto only here")
    cert, key = _expired_leaf(
        pki.ca_cert.parent,
        "expired-server",
        usage="serverAuth",
        alt_names="subjectAltName = IP:127.0.0.1, DNS:localhost",
    )
    try:
        broker = Broker(
            tmp_path / "broker", pki=replace(pki, server_cert=cert, server_key=key)
        ).start()
    except BrokerUnavailable as exc:
        pytest.skip(f"Mosquitto would not serve an expired certificate: {exc}")
    try:
        facts = await probe_broker(_config(broker.tls_url, **_tls(pki)))
    finally:
        broker.stop()
    assert facts.outcome is BrokerOutcome.SERVER_CERT_EXPIRED, facts.detail
    assert facts.detail == "certificate has expired"
    text_ru, advice_ru = read(check_broker(facts), "ru")
    assert text_ru == "у сертификата сервера истёк срок действия (certificate has expired)"
    assert advice_ru[0] == "Сообщите в поддержку: сертификат сервера нужно обновить."


async def test_probe_broker_expired_client_certificate(tls_broker: Broker) -> None:
    """This computer's certificate expired: the broker's alert says so, and so does the check."""
    pki = tls_broker.pki
    assert pki is not None
    cert, key = _expired_leaf(pki.ca_cert.parent, "expired-client", usage="clientAuth")
    facts = await probe_broker(_config(tls_broker.tls_url, **_tls(pki, cert=cert, key=key)))
    assert facts.outcome is BrokerOutcome.CLIENT_CERT_EXPIRED, facts.detail
    text, advice = read(check_broker(facts))
    assert text == "the server refused this computer's certificate: it has expired"
    assert advice[0] == "Ask your support for a new certificate for this computer ([mqtt] cert)."


async def test_probe_broker_missing_certificate_file(tls_broker: Broker, tmp_path: Path) -> None:
    """A CA file that is not there: the files are the problem, named, before any connect."""
    pki = tls_broker.pki
    assert pki is not None
    missing = tmp_path / "no-such-ca.pem"
    facts = await probe_broker(_config(tls_broker.tls_url, **_tls(pki, ca=missing)))
    assert facts.outcome is BrokerOutcome.TLS_FILES
    assert facts.detail is not None
    assert str(missing) in facts.detail
