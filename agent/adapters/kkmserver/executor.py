"""Runs KkmServer commands through the agent's one intake (docs/kkmserver.md).

Receipts and cash go to the outbox under the request id their ``IdCommand`` maps to, so a
repeated ``IdCommand`` is answered ``AlreadyDone`` for as long as the outbox keeps the row,
across restarts; shift commands are kept by id the same way (agent.intake.kept_shifts). A
request still waiting for the register after ``[kkmserver] queue_limit`` is withdrawn (never
printed later) and answered Status 2 with KkmServer's wording. The call waits ``Timeout − 1``
seconds for the outcome, then answers as things stand (Status 4 queued, 1 running) and
``GetRezult`` tells the rest. Other replies are kept in memory (the last 1000), as KkmServer
keeps its last 100.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from agent.adapters.kkmserver.commands import COMMANDS, KNOWN_ELSEWHERE
from agent.adapters.kkmserver.envelope import ALREADY_DONE, QUEUE_EXPIRED, Status, envelope
from agent.adapters.kkmserver.lenient import Fields
from agent.adapters.kkmserver.requests import (
    ID_PREFIXES,
    Refused,
    cash_command,
    internal_id,
    receipt_request,
    request_id,
)
from agent.adapters.kkmserver.results import (
    LINE_LENGTH,
    UnitFacts,
    get_rezult,
    kkt_info,
    list_unit,
    row_reply,
    session_state,
    shift_reply,
)
from agent.contract import ShiftCommand
from agent.drivers.errors import DriverError
from agent.fiscal.errors import FiscalError
from agent.intake import IdConflict, InvalidRequest, OutboxFull, RequestNotFound, Taken
from agent.intake.kept_shifts import STATE_REPORT_ACTION
from agent.outbox.codes import error_code
from agent.outbox.orders import CashDirection
from agent.outbox.shift_commands import CommandState, Taking
from agent.outbox.states import RowKind, RowState
from agent.outbox.store import OutboxError

if TYPE_CHECKING:
    from datetime import timedelta

    import structlog

    from agent.contract import Health
    from agent.drivers.interface import CalculationStateReport
    from agent.intake import Intake
    from agent.intake.kept_shifts import KeptShifts
    from agent.outbox.store import OutboxRow

__all__ = ["COMMANDS", "KNOWN_ELSEWHERE", "Executor", "ExecutorParams"]

DEFAULT_TIMEOUT_S: Final = 60
MAX_TIMEOUT_S: Final = 600
REMEMBERED: Final = 1000
WAIT_POLL_S: Final = 0.05

_NO_DUPLICATE_CHECK: Final = frozenset(
    {"GetRezult", "TrackingStatusCommand", "CancelCommand", "AddInGetSettings"}
)
_REFUSALS: Final = {
    "KkmRegOfd": "Регистрация и перерегистрация ККТ (KkmRegOfd) через агента запрещены",
}
_SHIFT_ACTIONS: Final = {
    "OpenShift": "open",
    "CloseShift": "close",
    "ZReport": "close",
    "XReport": "x_report",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutorParams:
    """What the executor needs from the config."""

    queue_limit: timedelta
    tax_systems: dict[str, str]
    shift_errors_ok: bool
    facts: UnitFacts


@dataclass(frozen=True, slots=True)
class _RowRef:
    """A reply that lives in the outbox: recomputed from the row whenever it is asked for."""

    command: str
    request_id: str
    warning: str


class Executor:
    """One instance per agent; ``execute`` answers one decoded request."""

    def __init__(
        self,
        *,
        intake: Intake,
        shifts: KeptShifts,
        health: Callable[[], Awaitable[Health]],
        params: ExecutorParams,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self._intake = intake
        self._shifts = shifts
        self._health = health
        self._params = params
        self._log = log.bind(adapter="kkmserver")
        self._replies: OrderedDict[str, dict[str, Any] | _RowRef] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Withdraw this adapter's requests a restart left waiting past the queue limit.

        Called before the worker runs (agent.app), so none of them prints first.
        """
        now = datetime.now(UTC)
        limit = self._params.queue_limit
        for row in await self._intake.waiting():
            if not row.id.startswith(ID_PREFIXES):
                continue
            left = (row.accepted_at + limit - now).total_seconds()
            if left <= 0:  # before the worker starts: it must not print it first
                await self._intake.withdraw(row.id, message=QUEUE_EXPIRED)
            else:
                self._withdraw_after(row.id, left)

    async def close(self) -> None:
        """Cancel the timers and the commands still running."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _withdraw_after(self, rid: str, delay_s: float) -> None:
        async def withdraw() -> None:
            await asyncio.sleep(delay_s)
            try:
                if (await self._intake.row(rid)).state is not RowState.PENDING:
                    return  # printed, or on the register: never withdrawn (a read, no write)
                await self._intake.withdraw(rid, message=QUEUE_EXPIRED)
            except (OutboxError, RequestNotFound) as exc:
                self._log.warning("withdraw_failed", request_id=rid, error=str(exc))

        self._spawn(withdraw(), f"kkmserver.withdraw[{rid}]")

    # -- memory ---------------------------------------------------------------------------

    def _remember(self, id_command: str, reply: dict[str, Any] | _RowRef) -> None:
        if not id_command:
            return
        self._replies[id_command] = reply
        self._replies.move_to_end(id_command)
        while len(self._replies) > REMEMBERED:
            self._replies.popitem(last=False)

    async def stored(self, id_command: str) -> dict[str, Any] | None:
        """The reply to an earlier command with this id, as it stands now."""
        found = self._replies.get(id_command)
        if isinstance(found, dict):
            return found
        if isinstance(found, _RowRef):
            return await self._row_reply(found.request_id, found.command, id_command, found.warning)
        rid = request_id(id_command)
        with contextlib.suppress(RequestNotFound):
            row = await self._intake.row(rid)
            return row_reply(row, command=_command_of(row), id_command=id_command)
        kept = await self._shifts.get(rid)
        if kept is None:
            return None
        if kept.state is CommandState.RUNNING:
            return envelope(_shift_command(kept.action), status=Status.RUN, id_command=id_command)
        error = (kept.outcome or {}).get("error") or {}
        return envelope(
            _shift_command(kept.action),
            status=Status.OK if kept.state is CommandState.DONE else Status.ERROR,
            id_command=id_command,
            error=f"{error.get('message', '')} ({error.get('code', '')})" if error else "",
        )

    async def _row_reply(
        self, rid: str, command: str, id_command: str, warning: str = ""
    ) -> dict[str, Any] | None:
        try:
            row = await self._intake.row(rid)
        except RequestNotFound:
            return None
        return row_reply(row, command=command, id_command=id_command, warning=warning)

    # -- dispatch -------------------------------------------------------------------------

    async def execute(self, command: Fields) -> dict[str, Any]:
        """The reply to one command (HTTP 200), whatever happened."""
        name = command.text("Command")
        id_command = command.text("IdCommand")
        if name == "GetRezult":
            return get_rezult(id_command, await self.stored(id_command) if id_command else None)
        if id_command and name not in _NO_DUPLICATE_CHECK:
            earlier = self._replies.get(id_command)
            if isinstance(earlier, dict) and earlier.get("Status") != Status.ERROR:
                return envelope(
                    name, status=Status.ALREADY_DONE, id_command=id_command, error=ALREADY_DONE
                )
        wait_s = _wait_s(command)
        try:
            reply = await self._dispatch(name, command, id_command, wait_s)
        except Refused as exc:
            reply = envelope(name, status=Status.ERROR, id_command=id_command, error=exc.error)
        if (
            not isinstance(self._replies.get(id_command), _RowRef)
            and reply["Status"] != Status.ALREADY_DONE
        ):
            self._remember(id_command, reply)
        return reply

    async def _dispatch(
        self, name: str, command: Fields, id_command: str, wait_s: float
    ) -> dict[str, Any]:
        if name == "RegisterCheck":
            return await self._register_check(command, id_command, wait_s)
        if name in ("DepositingCash", "PaymentCash"):
            return await self._cash(name, command, id_command, wait_s)
        if name in _SHIFT_ACTIONS:
            return await self._shift(name, id_command, wait_s)
        if name == "OfdReport":
            return await self._ofd_report(id_command, wait_s)
        if name == "OpenCashDrawer":
            return await self._open_drawer(id_command, wait_s)
        return await self._read(name, command, id_command)

    async def _read(self, name: str, command: Fields, id_command: str) -> dict[str, Any]:
        """The commands that read or do nothing fiscal."""
        fields: dict[str, object]
        if name == "GetDataKKT":
            return await self._data_kkt(id_command)
        if name == "GetDataCheck":
            return await self._data_check(command, id_command)
        if name == "List":
            health = await self._health()
            fields = {"ListUnit": [list_unit(health, self._params.facts)]}
        elif name == "GetLineLength":
            fields = {"LineLength": LINE_LENGTH}
        elif name == "Version":
            fields = {"Verson": self._params.facts.version}  # sic: KkmServer's spelling
        else:
            raise Refused(_REFUSALS.get(name, f"Команда {name} агентом не поддерживается"))
        reply = envelope(
            name, status=Status.OK, id_command=id_command, num_device=0 if name == "List" else 1
        )
        return {**fields, **reply}

    # -- receipts and cash ----------------------------------------------------------------

    async def _register_check(
        self, command: Fields, id_command: str, wait_s: float
    ) -> dict[str, Any]:
        rid = request_id(id_command) if id_command else internal_id()
        mapping = receipt_request(command, request_id=rid, tax_systems=self._params.tax_systems)
        warning = "; ".join(mapping.warnings)
        if warning:
            self._log.warning("kkmserver_warning", request_id=rid, warning=warning)
        return await self._submit(
            "RegisterCheck",
            submit=self._intake.submit_receipt,
            request=mapping.request,
            id_command=id_command,
            wait_s=wait_s,
            warning=warning,
        )

    async def _cash(
        self, name: str, command: Fields, id_command: str, wait_s: float
    ) -> dict[str, Any]:
        rid = request_id(id_command) if id_command else internal_id()
        direction = "in" if name == "DepositingCash" else "out"
        return await self._submit(
            name,
            submit=self._intake.submit_cash,
            request=cash_command(command, request_id=rid, direction=direction),
            id_command=id_command,
            wait_s=wait_s,
            warning="",
        )

    async def _submit(
        self,
        name: str,
        *,
        submit: Callable[[object], Awaitable[Any]],
        request: dict[str, Any],
        id_command: str,
        wait_s: float,
        warning: str,
    ) -> dict[str, Any]:
        rid = request["id"]
        try:
            submitted = await submit(request)
        except InvalidRequest as exc:
            where = f" (поле {exc.field})" if exc.field else ""
            raise Refused(
                f"Ошибка проверки данных: {exc.message}{where} [{exc.public_code}]"
            ) from exc
        except IdConflict:
            row = await self._intake.row(rid)
            if row.state in (RowState.FAILED, RowState.REJECTED):
                raise Refused(
                    "Этот IdCommand уже использован для другой команды, которая завершилась"
                    " ошибкой: отправьте команду с новым IdCommand"
                ) from None
            return envelope(
                name, status=Status.ALREADY_DONE, id_command=id_command, error=ALREADY_DONE
            )
        except OutboxFull:
            raise Refused(
                "Очередь агента переполнена: команда не принята, повторите позже"
            ) from None
        except OutboxError as exc:
            raise Refused(f"Агент не может сохранить команду: {exc}") from exc
        if submitted.taken is Taken.KNOWN:
            if submitted.row.state is RowState.REJECTED:
                return row_reply(submitted.row, command=name, id_command=id_command)
            return envelope(
                name, status=Status.ALREADY_DONE, id_command=id_command, error=ALREADY_DONE
            )
        self._remember(id_command, _RowRef(name, rid, warning))
        self._withdraw_after(rid, self._params.queue_limit.total_seconds())
        row = await self._intake.wait_final(rid, wait_s)
        return row_reply(row, command=name, id_command=id_command, warning=warning)

    # -- shift commands -------------------------------------------------------------------

    async def _shift(self, name: str, id_command: str, wait_s: float) -> dict[str, Any]:
        action = _SHIFT_ACTIONS[name]
        if id_command:
            kept = await self._shifts.get(request_id(id_command))
            if kept is not None and kept.state is not CommandState.FAILED:
                return envelope(
                    name, status=Status.ALREADY_DONE, id_command=id_command, error=ALREADY_DONE
                )
        health = await self._health()
        state = session_state(health)
        if not self._params.shift_errors_ok:
            if action == "open" and state != 1:
                raise Refused("Ошибка открытия смены ( 60 : Смена открыта – операция невозможна )")
            if action == "close" and state == 1:
                raise Refused(
                    "Ошибка закрытия смены ( 61 : Смена не открыта – операция невозможна )"
                )
        return await self._in_background(
            name, self._run_shift(name, action, id_command), id_command, wait_s
        )

    async def _in_background(
        self, name: str, run: Awaitable[dict[str, Any]], id_command: str, wait_s: float
    ) -> dict[str, Any]:
        """Run a register command, answer within ``wait_s`` (Status 1 while it still runs)."""
        task = self._spawn(run, f"kkmserver.{name}")
        done, _ = await asyncio.wait({task}, timeout=wait_s)
        if task in done:
            result: dict[str, Any] = task.result()
            return result
        running = envelope(name, status=Status.RUN, id_command=id_command)

        def finished(done_task: asyncio.Task[Any]) -> None:
            if not done_task.cancelled() and done_task.exception() is None:
                self._remember(id_command, done_task.result())

        task.add_done_callback(finished)
        return running

    async def _run_shift(self, name: str, action: str, id_command: str) -> dict[str, Any]:
        if not id_command:
            try:
                report = await self._intake.shift(ShiftCommand(action=action))
            except (DriverError, FiscalError) as exc:
                return self._shift_failed(name, id_command, exc)
            return shift_reply(name, id_command=id_command, report=report, info=await self._info())
        kept = await self._shifts.run(ShiftCommand(id=request_id(id_command), action=action))
        if kept.taking is not Taking.NEW:
            return await self._answer_again(name, id_command, kept.row.state)
        if kept.error is not None:
            return self._shift_failed(name, id_command, kept.error)
        return shift_reply(name, id_command=id_command, report=kept.report, info=await self._info())

    async def _answer_again(
        self, name: str, id_command: str, state: CommandState
    ) -> dict[str, Any]:
        """A kept command's ``IdCommand`` sent again: its stored failure, else AlreadyDone."""
        if state is CommandState.FAILED:
            stored = await self.stored(id_command)
            assert stored is not None
            return stored
        return envelope(name, status=Status.ALREADY_DONE, id_command=id_command, error=ALREADY_DONE)

    def _shift_failed(
        self, name: str, id_command: str, exc: DriverError | FiscalError
    ) -> dict[str, Any]:
        if self._params.shift_errors_ok and name != "XReport":
            return envelope(name, status=Status.OK, id_command=id_command, warning=str(exc))
        text = f"Ошибка операции со сменой ( {error_code(exc)} : {exc} )"
        return shift_reply(name, id_command=id_command, report=None, error=text)

    # -- the FN's calculation-state report and the drawer ------------------------------------

    async def _ofd_report(self, id_command: str, wait_s: float) -> dict[str, Any]:
        """``OfdReport``: an FN document, so an ``IdCommand`` prints it at most once."""
        if id_command:
            kept = await self._shifts.get(request_id(id_command))
            if kept is not None and kept.state is not CommandState.FAILED:
                return envelope(
                    "OfdReport",
                    status=Status.ALREADY_DONE,
                    id_command=id_command,
                    error=ALREADY_DONE,
                )
        return await self._in_background(
            "OfdReport", self._run_ofd_report(id_command), id_command, wait_s
        )

    async def _run_ofd_report(self, id_command: str) -> dict[str, Any]:
        name = "OfdReport"
        if not id_command:
            try:
                report = await self._intake.ofd_report()
            except (DriverError, FiscalError) as exc:
                return _ofd_failed(id_command, exc)
            return await self._ofd_reply(report, id_command)
        kept = await self._shifts.run_state_report(request_id(id_command))
        if kept.taking is not Taking.NEW:
            return await self._answer_again(name, id_command, kept.row.state)
        if kept.error is not None:
            return _ofd_failed(id_command, kept.error)
        assert kept.report is not None
        return await self._ofd_reply(kept.report, id_command)

    async def _ofd_reply(self, report: CalculationStateReport, id_command: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"CheckNumber": report.fd}
        health = await self._health()
        if health.shift is not None and health.shift.number:
            fields["SessionNumber"] = health.shift.number
        return envelope("OfdReport", status=Status.OK, id_command=id_command, **fields)

    async def _open_drawer(self, id_command: str, wait_s: float) -> dict[str, Any]:
        """``OpenCashDrawer``: no document, so nothing is kept beyond the reply in memory.

        It waits its turn behind receipts like any register command: ``Timeout − 1`` s, then
        ``Status 1`` and ``GetRezult``.
        """
        return await self._in_background(
            "OpenCashDrawer", self._run_open_drawer(id_command), id_command, wait_s
        )

    async def _run_open_drawer(self, id_command: str) -> dict[str, Any]:
        try:
            await self._intake.open_drawer()
        except (DriverError, FiscalError) as exc:
            text = f"Ошибка открытия денежного ящика ( {error_code(exc)} : {exc} )"
            return envelope(
                "OpenCashDrawer", status=Status.ERROR, id_command=id_command, error=text
            )
        return envelope("OpenCashDrawer", status=Status.OK, id_command=id_command)

    # -- reading --------------------------------------------------------------------------

    async def _info(self) -> dict[str, Any]:
        return kkt_info(await self._health(), self._params.facts)

    async def _data_kkt(self, id_command: str) -> dict[str, Any]:
        health = await self._health()
        fields: dict[str, Any] = {
            "LineLength": LINE_LENGTH,
            "Info": kkt_info(health, self._params.facts),
        }
        if health.shift is not None and health.shift.number:
            fields["SessionNumber"] = health.shift.number
        return envelope("GetDataKKT", status=Status.OK, id_command=id_command, **fields)

    async def _data_check(self, command: Fields, id_command: str) -> dict[str, Any]:
        number = command.integer("FiscalNumber", 0) or 0
        if command.integer("NumberCopies", 0):
            raise Refused("Печать копии чека (NumberCopies) агент не поддерживает")
        row = await self._intake.find_done(number)
        if row is None or row.fiscal is None or row.receipt is None:
            raise Refused(
                f"Не удалось получить данные чека: документ {number} агентом не печатался"
            )
        reply = row_reply(row, command="GetDataCheck", id_command=id_command)
        receipt = row.receipt
        reply["RegisterCheck"] = {
            "FiscalNumber": str(row.fiscal.fd),
            "FiscalDate": row.fiscal.issued_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "CheckType": "Приход" if receipt.kind.value == 1 else "Возврат прихода",
            "FiscalSign": str(row.fiscal.fp),
            "CashierName": receipt.cashier.name,
            "CashierVATIN": receipt.cashier.inn or "",
            "Register": [
                {"Name": item.name, "Quantity": item.qty / 1_000_000, "Amount": item.amount / 100}
                for item in receipt.items
            ],
            "Cash": reply.get("Cash"),
            "ElectronicPayment": reply.get("ElectronicPayment"),
            "AdvancePayment": reply.get("AdvancePayment"),
            "Credit": 0,
            "CashProvision": 0,
            "AllSumm": receipt.total / 100,
        }
        return reply


def _wait_s(command: Fields) -> float:
    """``Timeout − 1`` seconds: how long the call waits before answering as things stand."""
    try:
        timeout = command.integer("Timeout", 0) or 0
    except Exception:  # noqa: BLE001 - a bad Timeout is taken as the default, as KkmServer does
        timeout = 0
    if timeout <= 0:
        timeout = DEFAULT_TIMEOUT_S
    return float(min(timeout, MAX_TIMEOUT_S) - 1)


def _command_of(row: OutboxRow) -> str:
    if row.kind is RowKind.RECEIPT:
        return "RegisterCheck"
    if row.cash is not None and row.cash.direction is CashDirection.OUT:
        return "PaymentCash"
    return "DepositingCash"


def _shift_command(action: str) -> str:
    names = {
        "open": "OpenShift",
        "close": "CloseShift",
        "x_report": "XReport",
        STATE_REPORT_ACTION: "OfdReport",
    }
    return names.get(action, action)


def _ofd_failed(id_command: str, exc: DriverError | FiscalError) -> dict[str, Any]:
    text = f"Ошибка формирования отчета о состоянии расчетов ( {error_code(exc)} : {exc} )"
    return envelope("OfdReport", status=Status.ERROR, id_command=id_command, error=text)
