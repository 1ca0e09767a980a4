"""``country``: RU by default; the VAT rates, protocol and requisites of the config must fit it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import AgentConfig, ConfigError, env_names, load_config
from agent.config.country import country_defaults, country_mismatch, rate_keys_mismatch
from agent.domain.country import AZ, RU
from agent.domain.late import DEFAULT_LATE_POLICY, LateMode, LatePolicy

TAX = """\
[tax]
top_up = "osn"
service = "usn_income"
goods = "patent"
"""


def _load(
    tmp_path: Path, head: str, register: str, env: dict[str, str] | None = None
) -> AgentConfig:
    path = tmp_path / "agent.toml"
    path.write_text(f'club = "c"\nagent = "a"\n{head}[register]\n{register}{TAX}', encoding="utf-8")
    return load_config(path, env or {})


def _error(
    tmp_path: Path, head: str, register: str, env: dict[str, str] | None = None
) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, head, register, env)
    return info.value


SHTRIH = 'url = "/dev/ttyACM0"\n'


def test_country_defaults_to_russia(tmp_path: Path) -> None:
    """No country: RU, its profile, Shtrih as before."""
    config = _load(tmp_path, "", SHTRIH)
    assert config.country == "RU"
    assert config.profile is RU
    assert "FISCAL_AGENT_COUNTRY" in env_names()


@pytest.mark.parametrize(
    "register", [SHTRIH, 'protocol = "shtrih"\n' + SHTRIH, 'protocol = "atol"\n']
)
def test_country_russia_takes_shtrih_and_atol(tmp_path: Path, register: str) -> None:
    """Both Russian protocols fiscalise in RU."""
    config = _load(tmp_path, 'country = "RU"\n', register)
    assert config.register.protocol in RU.protocols


def test_country_azerbaijan_refuses_shtrih(tmp_path: Path) -> None:
    """AZ with a Shtrih register: the protocol is named, with what to set instead."""
    error = _error(tmp_path, 'country = "AZ"\n', 'protocol = "shtrih"\n' + SHTRIH)
    assert error.key == "register.protocol"
    assert error.reason == (
        'shtrih registers do not fiscalise in Azerbaijan (AZ): set protocol = "smartone",'
        ' or country = "RU" for a shtrih register'
    )


def test_country_azerbaijan_refuses_atol_from_the_environment(tmp_path: Path) -> None:
    """The country may come from FISCAL_AGENT_COUNTRY; ATOL does not fiscalise in AZ either."""
    error = _error(tmp_path, "", 'protocol = "atol"\n', {"FISCAL_AGENT_COUNTRY": "AZ"})
    assert error.key == "register.protocol"
    assert "atol registers do not fiscalise in Azerbaijan (AZ)" in error.reason


def test_country_azerbaijan_refuses_a_russian_rate(tmp_path: Path) -> None:
    """A tax rate code the file maps must be a rate of the country: vat22 is none in AZ."""
    error = _error(
        tmp_path, 'country = "AZ"\n', SHTRIH + "tax_rate_codes = {vat18 = 1, vat22 = 2}\n"
    )
    assert error.key == "register.tax_rate_codes.vat22"
    assert error.reason.startswith(
        "vat22 is not a VAT rate in Azerbaijan (AZ): use vat18, vat0 or none; remove it"
    )


def test_country_russia_refuses_vat18_in_the_tax_table(tmp_path: Path) -> None:
    """vat18 has no row on a Russian register."""
    error = _error(tmp_path, "", SHTRIH + "tax_rate_codes = {vat18 = 13}\n")
    assert error.key == "register.tax_rate_codes.vat18"
    assert "vat18 is not a VAT rate in Russia (RU)" in error.reason


def test_country_unknown_is_refused(tmp_path: Path) -> None:
    """Only RU and AZ have profiles."""
    error = _error(tmp_path, 'country = "KZ"\n', SHTRIH)
    assert error.key == "country"
    assert "'RU'" in error.reason
    assert "'AZ'" in error.reason


def test_country_russia_requires_tax(tmp_path: Path) -> None:
    """[tax] is required in Russia: the error names the key."""
    path = tmp_path / "agent.toml"
    path.write_text(f'club = "c"\nagent = "a"\n[register]\n{SHTRIH}', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.key == "tax"
    assert info.value.reason.startswith("missing: this key is required")


def _az_mismatch(
    *, has_tax: bool = False, cashier_inn: str | None = None, late: LatePolicy | None = None
) -> tuple[str, str] | None:
    return country_mismatch(
        AZ,
        protocol="smartone",
        has_tax=has_tax,
        cashier_inn=cashier_inn,
        late=late or LatePolicy(LateMode.NEVER),
    )


def test_country_checks_of_azerbaijan_without_ffd_requisites() -> None:
    """AZ (once its protocol is configured): no [tax], no cashier INN, never a correction."""
    assert _az_mismatch() is None
    assert _az_mismatch(has_tax=True) == (
        "tax",
        "receipts in Azerbaijan (AZ) carry no tax system (tag 1055): remove [tax]",
    )
    inn = _az_mismatch(cashier_inn="500100732259")
    assert inn is not None
    assert inn[0] == "cashier.inn"
    assert "remove it" in inn[1]
    late = _az_mismatch(late=DEFAULT_LATE_POLICY)
    assert late is not None
    assert late[0] == "receipts.late"
    assert 'set late = "never"' in late[1]
    russia = country_mismatch(
        RU, protocol="atol", has_tax=True, cashier_inn="500100732259", late=DEFAULT_LATE_POLICY
    )
    assert russia is None
    no_tax = country_mismatch(
        RU, protocol="atol", has_tax=False, cashier_inn=None, late=DEFAULT_LATE_POLICY
    )
    assert no_tax is not None
    assert no_tax[0] == "tax"


def test_country_defaults_of_azerbaijan() -> None:
    """In AZ an unset [receipts] late is "never"; a given one, and RU's, are left alone."""
    assert country_defaults({"country": "AZ"})["receipts"] == {"late": "never"}
    given = {"country": "AZ", "receipts": {"late": "other_shift"}}
    assert country_defaults(given) is given
    assert "receipts" not in country_defaults({"country": "RU"})
    assert "receipts" not in country_defaults({})


def test_country_rate_keys_checked_as_written() -> None:
    """Only the keys the file writes are checked; unknown names are the field's own error."""
    assert rate_keys_mismatch({"country": "AZ", "register": {}}) is None
    assert (
        rate_keys_mismatch({"country": "AZ", "register": {"tax_rate_codes": {"vat99": 1}}}) is None
    )
    assert rate_keys_mismatch({"register": {"tax_rate_codes": {"vat22": 1}}}) is None
