"""The support page in a real headless browser, over real processes.

Mosquitto, firmware-sim, the agent and ``fiscal-cloud run`` (with a support token) as
separate processes; chromium logs in with HTTP Basic. The page shows the agent online, sees it
go offline when its process is killed and come back when it is restarted; a payment the CRM
sent at QoS 0 while the agent was down never reaches it (``crm_only``); the problem filter
finds it; support opens the shift from the agent's page and issues the missing receipt with a
reason; the agent prints it and the row turns ``matched``. Screenshots are kept in
``test-artifacts/`` (tests/support/browser.py).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import screenshot
from tests.support.cloud_process import Cloud
from tests.support.mqtt_client import PREFIX, PlainClient, wait_agent_subscribed
from tests.support.payloads import receipt
from tests.support.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.sim, pytest.mark.broker, pytest.mark.timeout(120)]

TOKEN = "support-token-browser-0123456789"  # noqa: S105 - a test token


def _api(cloud: Cloud, path: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - local test URL
        f"{cloud.base}{path}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def _row_state(driver: Any) -> str | None:
    """The state cell of club-1/desk-1's row, or None while the page is being refreshed."""
    from selenium.common.exceptions import (  # noqa: PLC0415
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    try:
        row = driver.find_element(By.CSS_SELECTOR, 'tr.agent[data-agent="desk-1"]')
        return str(row.find_elements(By.TAG_NAME, "td")[1].text)
    except (NoSuchElementException, StaleElementReferenceException, IndexError):
        return None


def _wait_state(driver: Any, word: str, what: str) -> None:
    wait_until(
        lambda: (_row_state(driver) or "").startswith(word), timeout_s=30, interval_s=0.2, what=what
    )


def test_support_sees_an_agent_go_offline_and_back_and_issues_a_missing_receipt(
    broker: Any, start_sim: Any, start_agent: Any, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support.ui import Select  # noqa: PLC0415

    sim = start_sim()
    agent = start_agent(sim, settings={"mqtt": {"url": broker.url}})
    wait_agent_subscribed(broker.url)
    cloud = Cloud(tmp_path / "cloud", broker.url, support_token=TOKEN).start()
    crm = PlainClient(broker.url, "crm-page", subscribe=(PREFIX + "evt/receipt",)).connect()
    try:
        crm.publish(PREFIX + "cmd/receipt", receipt("pay-1", 15000))
        crm.wait_for(lambda: crm.all_done(["pay-1"]), timeout_s=30, what="pay-1 printed")
        page = f"http://anna:{TOKEN}@127.0.0.1:{cloud.port}"

        # Without credentials the browser is asked (401, WWW-Authenticate: Basic).
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{cloud.base}/", timeout=5)  # noqa: S310
        assert refused.value.code == 401
        assert refused.value.headers["WWW-Authenticate"].startswith("Basic")

        browser.get(f"{page}/?every=1&lang=en")
        _wait_state(browser, "online", "the agent online on the page")
        assert "anna" in browser.find_element(By.CSS_SELECTOR, "header .who").text
        screenshot(browser, "support-board")

        agent.kill()
        _wait_state(browser, "offline", "the page to show the agent offline")
        row = browser.find_element(By.CSS_SELECTOR, 'tr.agent[data-agent="desk-1"]')
        assert "offline" in (row.get_attribute("data-problems") or "")
        screenshot(browser, "support-board-offline")

        # A payment sent at QoS 0 while the agent is down: the cloud keeps it, the agent never
        # gets it (the broker queues only QoS 1 and 2 for an offline session).
        crm.publish(PREFIX + "cmd/receipt", receipt("pay-2", 25000), qos=0)
        wait_until(
            lambda: any(
                row["id"] == "pay-2"
                for row in _api(cloud, "/api/v1/clubs/club-1/reconciliation?agent=desk-1")["rows"]
            ),
            timeout_s=10,
            what="the cloud to keep pay-2",
        )

        agent.start()
        _wait_state(browser, "online", "the agent back online on the page")

        # The problem filter: the shift with pay-2 missing is a discrepancy; nobody is offline.
        Select(browser.find_element(By.ID, "problem")).select_by_value("discrepancy")
        wait_until(
            lambda: "problem=discrepancy" in browser.current_url, timeout_s=10, what="filter"
        )
        _wait_state(browser, "online", "the agent under the discrepancy filter")
        Select(browser.find_element(By.ID, "problem")).select_by_value("offline")
        wait_until(
            lambda: browser.find_elements(By.CSS_SELECTOR, "tr.empty"),
            timeout_s=10,
            what="no agent under the offline filter",
        )
        Select(browser.find_element(By.ID, "problem")).select_by_value("")
        _wait_state(browser, "online", "every agent again")

        # The agent's page, its current shift, the missing receipt issued with a reason.
        browser.find_element(By.LINK_TEXT, "club-1 / desk-1").click()
        wait_until(
            lambda: browser.find_elements(By.CSS_SELECTOR, "#shifts a.shift"),
            timeout_s=10,
            what="the agent's shifts",
        )
        assert browser.find_elements(By.CSS_SELECTOR, "#history tbody tr"), "no health history"
        screenshot(browser, "support-agent")
        browser.find_elements(By.CSS_SELECTOR, "#shifts a.shift")[0].click()
        missing = browser.find_element(By.CSS_SELECTOR, 'tr.row.crm_only[data-id="pay-2"]')
        missing.find_element(By.NAME, "reason").send_keys("sent while the PC was off")
        screenshot(browser, "support-shift-before")
        missing.find_element(By.CSS_SELECTOR, "form.reissue button").click()
        flash = wait_until(
            lambda: browser.find_elements(By.ID, "flash"), timeout_s=10, what="the flash"
        )
        assert "pay-2" in flash[0].text, flash[0].text
        crm.wait_for(lambda: crm.all_done(["pay-2"]), timeout_s=30, what="pay-2 printed")

        def matched() -> bool:
            browser.get(browser.current_url.split("?")[0] + "?all=1")
            rows = browser.find_elements(By.CSS_SELECTOR, 'tr.row.matched[data-id="pay-2"]')
            return bool(rows)

        wait_until(matched, timeout_s=20, interval_s=0.5, what="pay-2 matched on the shift page")
        screenshot(browser, "support-shift-after")
        audit = [
            line
            for line in (tmp_path / "cloud" / "cloud.log").read_text().splitlines()
            if "reissued" in line
        ]
        assert audit, "the cloud logged no reissue"
        assert "by=anna" in audit[-1] or '"by": "anna"' in audit[-1], audit[-1]
        assert cloud.is_alive(), "the cloud died"
    finally:
        crm.close()
        cloud.stop()
