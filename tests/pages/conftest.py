"""Fixtures for the pages' tests: the scene on a real node, Debian's Chromium, the screenshots folder.

Chromium comes from Debian (``apt-get install chromium``, done here when ``/usr/bin/chromium``
is missing and the tests run as root), never from Playwright's own download, which this
project's machines cannot reach; Playwright drives it through ``executable_path``. Under
``CI=true`` a missing browser or Playwright fails the browser tests instead of skipping them.

Screenshots go to ``$VCNODE_SCREENSHOTS`` when set, else to ``screenshots/`` in pytest's base
temporary folder for the run (printed at the end of the session).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from scene import Scene, build
from support import _unavailable, exclusive

CHROMIUM = Path(os.environ.get("VCNODE_CHROMIUM", "/usr/bin/chromium"))
# This machine's network is closed: anything Chromium would fetch in the background (updates,
# field trials, sync, QUIC probes) is switched off so the tests see only the node.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_screenshot_dir: Path | None = None


def _install_chromium() -> None:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
        if proc.returncode != 0:
            _unavailable(f"{' '.join(command)} failed: {proc.stderr[-2000:]}")


@pytest.fixture(scope="session")
def chromium_args() -> list[str]:
    """``CHROMIUM_ARGS``, as a fixture: ``from conftest import`` would pick whichever of the
    suite's conftest.py files was imported first (tests/support.py)."""
    return list(CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's Chromium, installed first if it is missing."""
    if not CHROMIUM.exists():
        with exclusive(Path(tempfile.gettempdir()) / "vcnode-tests-chromium.lock"):  # one apt-get at a time
            if not CHROMIUM.exists():
                _install_chromium()
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not at {CHROMIUM}; install Debian's package: apt-get install chromium")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is missing: pip install -e '.[test]'")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    global _screenshot_dir
    given = os.environ.get("VCNODE_SCREENSHOTS")
    path = Path(given).resolve() if given else tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    _screenshot_dir = path
    return path


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bypass_csp: the browser context ignores the page's Content-Security-Policy")
    config.addinivalue_line("markers", "phone: the browser context has a phone's viewport")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _screenshot_dir is not None and any(_screenshot_dir.glob("*.png")):
        terminalreporter.write_line(f"page screenshots: {_screenshot_dir}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    """One node with every credential the page tests show (built once per test module)."""
    async with aiohttp.ClientSession() as http:
        built = await build(tmp_path_factory.mktemp("pages-node"), http)
        try:
            yield built
        finally:
            await built.node.runner.cleanup()
