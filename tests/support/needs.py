"""What a test needs of the machine beyond the test extra's Python packages, as pytest markers
(registered in pyproject.toml, applied by tests/conftest.py before any fixture is set up):

- ``@pytest.mark.needs_dot``: a program on PATH that lays graphs out as ``dot`` does: graphviz's
  ``dot``, else graphviz-pure (the ``draw`` extra; tinygrad_lab.viz.render.layout_program), for
  rendering, the explorer, the notebook's graph cell;
- ``@pytest.mark.needs_system_dot``: graphviz's own ``dot`` (PDF, which graphviz-pure does not
  write);
- ``@pytest.mark.needs_graphviz_pure``: graphviz-pure installed (on PATH or beside the running
  Python), for the tests that lay out with it while hiding ``dot``;
- ``@pytest.mark.needs_chromium``: Playwright and Chromium at /usr/bin/chromium, or at the path
  in TINYGRAD_LAB_CHROMIUM (which also hides it: ``TINYGRAD_LAB_CHROMIUM=/nonexistent``).

Without what it needs, a test is skipped with the reason, except in CI (CI=true), where it
fails. Mark the test (or the module, ``pytestmark``), not a fixture: ``-m needs_dot`` then
selects every test that lays a graph out. .ci/run runs the graph and explorer tests a second
time with ``dot`` hidden from PATH, where they lay out with graphviz-pure; a test that needs the
system's ``dot`` and is not marked needs_system_dot fails there."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("TINYGRAD_LAB_CHROMIUM") or "/usr/bin/chromium"


def _missing_dot() -> str | None:
    from tinygrad_lab.viz.render import layout_program

    if layout_program() is None:
        return (
            "neither graphviz's `dot` nor graphviz-pure is on PATH "
            "(apt-get install graphviz, or pip install -e '.[draw]')"
        )
    return None


def _missing_system_dot() -> str | None:
    if shutil.which("dot") is None:
        return "graphviz's own `dot` is not on PATH (apt-get install graphviz)"
    return None


def graphviz_pure() -> str | None:
    """graphviz-pure's program: on PATH, or in the scripts folder of the running Python."""
    beside = Path(sys.executable).parent / "graphviz-pure"
    return shutil.which("graphviz-pure") or (str(beside) if os.access(beside, os.X_OK) else None)


def _missing_graphviz_pure() -> str | None:
    if graphviz_pure() is None:
        return "graphviz-pure is not installed (pip install -e '.[draw]')"
    return None


def _missing_chromium() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


MISSING = {
    "needs_dot": _missing_dot,
    "needs_system_dot": _missing_system_dot,
    "needs_graphviz_pure": _missing_graphviz_pure,
    "needs_chromium": _missing_chromium,
}


def require(*needs: str) -> None:
    """Skip the running test (fail it in CI) unless the machine has each of ``needs``
    (marker names: ``"needs_dot"``, ``"needs_chromium"``); the reason names all that is missing."""
    reasons = [reason for need in dict.fromkeys(needs) if (reason := MISSING[need]())]
    if not reasons:
        return
    reason = "; ".join(reasons)
    if IN_CI:
        pytest.fail(f"{reason}; in CI (CI=true) this test must run, not skip", pytrace=False)
    pytest.skip(reason)
