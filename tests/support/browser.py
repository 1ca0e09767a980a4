"""A real headless browser for the support page's tests: Debian's chromium through Selenium.

The ``browser`` fixture (one per session) drives ``/usr/bin/chromium`` with
``/usr/bin/chromedriver`` (packages ``chromium`` and ``chromium-driver``; ``make test``
installs them with apt-get where it runs as root). Where either is missing the tests that use
it are skipped with the reason. Screenshots go to ``test-artifacts/`` at the repository's root
(or ``$FISCAL_EDGE_ARTIFACTS``), kept after the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ARTIFACTS", "browser", "screenshot"]

ARTIFACTS = Path(
    os.environ.get("FISCAL_EDGE_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
# $FISCAL_EDGE_CHROMIUM and $FISCAL_EDGE_CHROMEDRIVER name other binaries (or none: a path that
# does not exist shows the skip).
_CHROMIUM = (os.environ.get("FISCAL_EDGE_CHROMIUM", "/usr/bin/chromium"),)
_DRIVER = (os.environ.get("FISCAL_EDGE_CHROMEDRIVER", "/usr/bin/chromedriver"),)


def _find(candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless chromium, 1600x1000, closed at the end of the session."""
    try:
        from selenium import webdriver  # noqa: PLC0415 - only the browser tests need it
        from selenium.webdriver.chrome.service import Service  # noqa: PLC0415
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    chromium, driver_path = _find(_CHROMIUM), _find(_DRIVER)
    if chromium is None or driver_path is None:
        pytest.skip(
            "no chromium or chromedriver: `apt-get install chromium chromium-driver` "
            "(make test does it when run as root)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1600,1000",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str) -> Path:
    """Save the browser's viewport as ``test-artifacts/{name}.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
