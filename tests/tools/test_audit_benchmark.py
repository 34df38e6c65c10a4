"""Smoke test of the audit benchmark (benchmarks/audit.py --quick): it audits the seed documents
and a small class made by the notebook's own code, and must find each submission's seed. No
timing is asserted (CI machines are noisy)."""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "audit.py"


def test_the_quick_audit_benchmark_runs_and_finds_every_seed(tmp_path):
    out = tmp_path / "audit.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert report["A1"]["seeds"] == {"lab6-notebook.txt": 219, "lab6-readme.md": 144}
    assert report["A2"]["submissions"] == 4 and report["A2"]["seeds_found"] is True
    assert report["A1"]["seconds"] > 0 and report["A2"]["seconds"] > 0
    assert "A2: 4 submission(s)" in done.stdout
