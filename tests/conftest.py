"""Hypothesis profiles: `dev` (quick, random) by default; `ci` (derandomized, more examples)
when CI=true. Choose another with HYPOTHESIS_PROFILE=name.

The ``needs_dot`` and ``needs_chromium`` markers (tests/support/needs.py): a marked test is skipped
without graphviz's `dot` or Chromium, with the reason, except in CI, where it fails."""

import os

import pytest
from hypothesis import HealthCheck, settings
from needs import MISSING, require

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
IN_CI = os.environ.get("CI", "").lower() == "true"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture of the test is set up: what its markers say it needs, or skip/fail."""
    require(*(mark.name for mark in item.iter_markers() if mark.name in MISSING))
