"""Smoke test of the study benchmark (benchmarks/studies.py --quick): it runs the depth study on
the pool and seed 0 of every setting through the ordinary path, whose figures must agree with
the study's. No timing is asserted (CI machines are noisy)."""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "studies.py"


def test_the_quick_study_benchmark_runs_and_agrees(tmp_path):
    out = tmp_path / "studies.json"
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
    assert report["trainings"] == 4 * 3 * 4  # activations × depths × seeds
    assert report["relative_difference"] <= 1e-12
    assert len(report["wall_seconds"]) == 1 and report["wall_seconds"][0] > 0
    assert report["one_seed_path_seconds_estimate"] > 0
    assert report["machine"]["environment"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "S1 (quick sizes" in done.stdout
