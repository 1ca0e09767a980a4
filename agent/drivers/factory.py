"""The one place a register's driver is built: ``[register] protocol`` picks it.

The composition root (:mod:`agent.app`), the doctor, the demo and the benchmark all build
their driver here, so a protocol is added in one function. The ATOL driver is imported only
when asked for: a build without it still runs every Shtrih register, and asking for ATOL
there is a configuration error that says so.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast

from agent.config import ConfigError
from agent.domain.receipt import VatRate
from agent.drivers.shtrih.driver import DriverParams, ShtrihDriver
from agent.transport import Transport, TransportParams

if TYPE_CHECKING:
    import structlog

    from agent.config import AgentConfig
    from agent.drivers.interface import FiscalDriver

__all__ = ["ATOL_DRIVER_MODULE", "build_driver", "tax_rows"]

ATOL_DRIVER_MODULE: Final = "agent.drivers.atol.driver"
"""Where the ATOL driver lives: ``AtolDriver`` and its ``AtolParams``."""


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
    its round trips (Shtrih). Raises :class:`agent.config.ConfigError` for ``atol`` in a
    build without the ATOL driver, and ``ValueError`` for settings the driver refuses.
    """
    if config.register.protocol == "atol":
        return _atol_driver(config, log)
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


def _atol_driver(config: AgentConfig, log: structlog.typing.FilteringBoundLogger) -> FiscalDriver:
    try:
        module = importlib.import_module(ATOL_DRIVER_MODULE)
        driver_class = cast("Callable[..., FiscalDriver]", module.AtolDriver)
        params_class = cast("Callable[..., Any]", module.AtolParams)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            "register.protocol", "the atol driver is not installed in this build"
        ) from exc
    atol = config.atol
    params = params_class(
        url=config.atol_url,
        api=atol.api,
        poll_interval_s=atol.poll_interval_s,
        task_timeout_s=atol.task_timeout_s,
        request_timeout_s=atol.request_timeout_s,
        username=atol.username,
        password=None if atol.password is None else atol.password.get_secret_value(),
        tax_system=atol.tax_system,
        zone=config.register.configured_zone,
        tax_rate_codes=tax_rows(config),
    )
    del log  # the ATOL driver keeps its own logger
    return driver_class(params)
