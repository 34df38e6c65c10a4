"""Smoke test of the audit benchmark (benchmarks/audit.py --quick): it audits the seed documents
and a small class made by the notebook's own code, and must find each submission's seed. No
timing is asserted (CI machines are noisy)."""

import json

from benchmark_scripts import run_script


def test_the_quick_audit_benchmark_runs_and_finds_every_seed(tmp_path):
    out = tmp_path / "audit.json"
    done = run_script("audit.py", "--quick", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert report["A1"]["seeds"] == {"lab6-notebook.txt": 219, "lab6-readme.md": 144}
    assert report["A2"]["submissions"] == 4 and report["A2"]["seeds_found"] is True
    assert report["A1"]["seconds"] > 0 and report["A2"]["seconds"] > 0
    assert "A2: 4 submission(s)" in done.stdout
