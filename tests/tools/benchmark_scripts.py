"""Running a benchmark script as a user runs it, for the benchmarks' smoke tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_script(name: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python benchmarks/<name> args``. glibc settings left in os.environ by other tests
    (Dask's nanny sets MALLOC_TRIM_THRESHOLD_) would be kept by the harness, which only fills
    in what is unset, so they are removed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
