"""The one place a register's driver is built: ``[register] protocol`` picks it.

The composition root (:mod:`agent.app`), the doctor, the demo and the benchmark all build
their driver here, so a protocol is added in one function. The ATOL and SmartOne drivers are
imported only when asked for (a Shtrih agent never loads them); they ship in the same
package as the rest of the agent, so the import cannot be missing from a build.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agent.domain.receipt import VatRate
from agent.drivers.shtrih.driver import DriverParams, ShtrihDriver
from agent.transport import Transport, TransportParams

if TYPE_CHECKING:
    import structlog

    from agent.config import AgentConfig
    from agent.drivers.atol.driver import AtolDriver
    from agent.drivers.interface import FiscalDriver
    from agent.drivers.smartone.driver import SmartOneDriver

__all__ = ["build_driver", "tax_rows"]


def tax_rows(config: AgentConfig) -> dict[VatRate, int]:
    """The tax-table row the register is sent for each VAT rate (``[register] tax_rate_codes``)."""
    return {VatRate[name.upper()]: row for name, row in config.register.tax_rate_codes.items()}


def build_driver(
    config: AgentConfig,
    log: structlog.typing.FilteringBoundLogger,
    on_round_trip: Callable[[str, float], None] | None = None,
) -> FiscalDriver:
    """The register's driver for ``config.register.protocol``.

    ``on_round_trip`` (command name, seconds) feeds the metrics where the driver reports
    its round trips (Shtrih); the ATOL driver logs its tasks instead. Raises ``ValueError``
    for settings the driver refuses.
    """
    if config.register.protocol == "atol":
        return _atol_driver(config, log)
    if config.register.protocol == "smartone":
        return _smartone_driver(config, log)
    return _shtrih_driver(config, log, on_round_trip)


def _shtrih_driver(
    config: AgentConfig,
    log: structlog.typing.FilteringBoundLogger,
    on_round_trip: Callable[[str, float], None] | None,
) -> ShtrihDriver:
    register, shtrih = config.register, config.shtrih
    url = config.register_address
    return ShtrihDriver(
        transport=Transport(params=TransportParams(url=url, baudrate=shtrih.baudrate)),
        params=DriverParams(
            operator_password=shtrih.operator_password,
            sysadmin_password=shtrih.admin_password,
            tz=register.configured_zone,
            answer_timeouts_s=shtrih.answer_timeouts,
            tax_rate_index=tax_rows(config),
        ),
        log=log.bind(register=url),
        on_round_trip=on_round_trip,
    )


def _atol_driver(config: AgentConfig, log: structlog.typing.FilteringBoundLogger) -> AtolDriver:
    # Lazy: a Shtrih agent never loads the ATOL driver (nor its HTTP client).
    from agent.drivers.atol.driver import AtolDriver  # noqa: PLC0415
    from agent.drivers.atol.params import AtolParams  # noqa: PLC0415

    atol = config.atol
    url = config.atol_url
    params = AtolParams(
        url=url,
        api=atol.api,
        poll_interval_s=atol.poll_interval_s,
        task_timeout_s=atol.task_timeout_s,
        read_timeout_s=atol.read_timeout_s,
        request_timeout_s=atol.request_timeout_s,
        username=atol.username,
        password=None if atol.password is None else atol.password.get_secret_value(),
        tax_system=atol.tax_system,
        zone=config.register.configured_zone,
        tax_rate_codes=tax_rows(config),
    )
    return AtolDriver(params, log=log.bind(register=url))


def _smartone_driver(
    config: AgentConfig, log: structlog.typing.FilteringBoundLogger
) -> SmartOneDriver:
    # Lazy: only a SmartOne agent loads this driver (and its HTTP client).
    from agent.drivers.smartone.driver import SmartOneDriver  # noqa: PLC0415
    from agent.drivers.smartone.params import SmartOneParams  # noqa: PLC0415

    smartone = config.smartone
    if smartone.merchant_id is None:  # validated with the config; a guard for hand-built ones
        msg = '[smartone] merchant_id is required for protocol = "smartone"'
        raise ValueError(msg)
    url = config.smartone_url
    params = SmartOneParams(
        url=url,
        merchant_id=smartone.merchant_id.get_secret_value(),
        read_timeout_s=smartone.read_timeout_s,
        sale_timeout_s=smartone.sale_timeout_s,
        poll_interval_s=smartone.poll_interval_s,
        processing_timeout_s=smartone.processing_timeout_s,
        employee_name=smartone.employee_name,
        withdraw_before_z=smartone.withdraw_before_z,
        open_orders_operation=smartone.open_orders_operation,
        zone=config.register.zone,
        tax_rate_codes=_country_rates(config),
    )
    return SmartOneDriver(params, log=log.bind(register=url))


def _country_rates(config: AgentConfig) -> dict[VatRate, int]:
    """The country's rates, numbered: a cashbox that takes each line's percent has no table.

    The numbers only order the rows of the tax setup the driver reports; what goes on the
    wire is each rate's percent (``taxPrc``).
    """
    rates = sorted(config.profile.vat_rates, key=lambda rate: rate.value)
    return {rate: index for index, rate in enumerate(rates, start=1)}
