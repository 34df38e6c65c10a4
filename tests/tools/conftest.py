"""Fixtures of the explorer tests: headless Chromium through Playwright, and a page opener that
fails a test on any network request or console error.

Chromium is Debian's (``apt-get install -y chromium``), used at ``/usr/bin/chromium`` (or at
``$TINYGRAD_LAB_CHROMIUM``): Playwright's own browser download is not needed. A test that uses
the ``browser`` fixture is marked ``needs_chromium`` (tests/support/needs.py): without Chromium or
Playwright it is skipped with the reason, except in CI (CI=true), where it fails.

Screenshots go to a temporary folder (printed with ``-s``); with
``TINYGRAD_LAB_UPDATE_SCREENSHOTS=1`` docs/graphs.md's ``docs/explorer.png`` is rewritten too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from needs import CHROMIUM, require

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 860}
LOCAL_SCHEMES = ("file:", "data:", "about:")
DOCS = Path(__file__).resolve().parents[2] / "docs"
NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; }"


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that opens a browser needs Chromium: marked here, so none can forget it."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.needs_chromium)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require("needs_chromium")  # already checked by the marker; here for a direct request
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Opened:
    """A page of the explorer, with every request it made and every console error it logged."""

    page: Any
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check_clean(self) -> None:
        assert self.blocked == [], f"the page tried to reach the network: {self.blocked}"
        remote = [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]
        assert remote == [], f"the page made requests beyond file/data URLs: {remote}"
        assert self.errors == [], f"the page logged errors: {self.errors}"


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Opened]]:
    """``open_page(path)`` (or ``open_page(html=...)`` for markup set directly): a page whose
    every non-file, non-data request is aborted and recorded; checked clean at teardown."""
    opened: list[tuple[Any, Opened]] = []

    def open_(path: Path | None = None, html: str | None = None) -> Opened:
        context = browser.new_context(viewport=VIEWPORT)
        result = Opened(context.new_page())
        opened.append((context, result))
        context.route("**/*", lambda route: _local_only(route, result))
        result.page.on("request", lambda request: result.requests.append(request.url))
        result.page.on("websocket", lambda ws: result.blocked.append(ws.url))
        result.page.on("console", lambda m: m.type == "error" and result.errors.append(m.text))
        result.page.on("pageerror", lambda err: result.errors.append(str(err)))
        if path is not None:
            result.page.goto(path.as_uri())
            result.page.wait_for_selector("body[data-ready=true]")
        else:
            result.page.set_content(html)
        result.page.add_style_tag(content=NO_TRANSITIONS)  # colours final as soon as painted
        return result

    yield open_
    for context, result in opened:
        result.check_clean()
        context.close()


def _local_only(route: Any, result: Opened) -> None:
    url = route.request.url
    if url.startswith(LOCAL_SCHEMES):
        route.continue_()
    else:
        result.blocked.append(url)
        route.abort()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("explorer-screenshots")


@pytest.fixture
def screenshot(screenshot_dir: Path) -> Callable[[Any, str], Path]:
    """``screenshot(page, "name.png")``: saved in the session's screenshot folder, and over
    docs/explorer.png when the name is that and TINYGRAD_LAB_UPDATE_SCREENSHOTS=1."""

    def take(page: Any, name: str) -> Path:
        path = screenshot_dir / name
        page.screenshot(path=str(path))
        print(f"screenshot: {path}")
        if name == "explorer.png" and os.environ.get("TINYGRAD_LAB_UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(path, DOCS / name)
        return path

    return take
