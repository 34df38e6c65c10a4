"""Smoke test of the study benchmark (benchmarks/studies.py --quick): it runs the depth study on
the pool and seed 0 of every setting through the ordinary path, whose figures must agree with
the study's. No timing is asserted (CI machines are noisy)."""

import json

from benchmark_scripts import run_script


def test_the_quick_study_benchmark_runs_and_agrees(tmp_path):
    out = tmp_path / "studies.json"
    done = run_script("studies.py", "--quick", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert report["trainings"] == 4 * 3 * 4  # activations × depths × seeds
    assert report["relative_difference"] <= 1e-12
    assert len(report["wall_seconds"]) == 1 and report["wall_seconds"][0] > 0
    assert report["one_seed_path_seconds_estimate"] > 0
    assert report["machine"]["environment"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "S1 (quick sizes" in done.stdout
