"""Smoke test of the benchmark harness: ``benchmarks/run.py --quick`` runs every workload and
every contender and writes the table and the JSON. No timing is asserted (CI machines are
noisy); what is asserted is that each contender ran (or, for torch, is skipped with a note) and
that tinygrad_lab's results agree with the NumPy reference's, to the bit where they must."""

from __future__ import annotations

import json
import subprocess

import pytest
from benchmark_scripts import run_script

TIMING = {
    "W1": ["numpy", "tinygrad_lab", "tinygrad_lab + recorder", "torch"],
    "W2": ["numpy", "tinygrad_lab", "torch"],
    "W3": ["numpy", "numpy, chunked NCHW", "tinygrad_lab", "torch"],
    "W6": ["numpy", "tinygrad_lab", "torch"],
    "W9": [
        "numpy",
        "tinygrad_lab",
        "torch",
        "numpy float32",
        "tinygrad_lab float32",
        "torch float32",
    ],
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    proc = run_script("run.py", "--quick", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def test_every_timing_workload_and_contender_is_reported(quick_run) -> None:
    proc, report = quick_run
    by_key = {s["key"]: s for s in report["timing"]}
    assert sorted(by_key) == sorted(TIMING)
    for key, names in TIMING.items():
        contenders = by_key[key]["contenders"]
        assert list(contenders) == names
        for name in names:
            c = contenders[name]
            if c["skipped"]:
                # only PyTorch's contenders ("torch", W9's "torch float32"), for want of torch
                assert name.split()[0] == "torch" and "torch" in c["note"], (key, name, c)
                continue
            assert c["seconds_per_unit"] > 0 and c["ratio_to_reference"] > 0, (key, name)
            assert c["agrees"], (key, name, c)
            # the printed table has this row
            assert any(
                line.startswith(f"| {key} ") and f"| {name} " in line
                for line in proc.stdout.splitlines()
            ), (key, name)
        assert contenders["numpy"]["ratio_to_reference"] == 1.0


def test_lab_matches_the_notebook_to_the_bit(quick_run) -> None:
    _, report = quick_run
    by_key = {s["key"]: s["contenders"] for s in report["timing"]}
    for key, names in (
        ("W1", ["tinygrad_lab", "tinygrad_lab + recorder"]),
        ("W2", ["tinygrad_lab"]),
    ):
        expected = by_key[key]["numpy"]["result"]
        assert expected == expected  # a real loss, not NaN
        for name in names:
            assert by_key[key][name]["result"] == expected, (key, name)


def test_chain_and_memory_workloads_are_reported(quick_run) -> None:
    proc, report = quick_run
    chains = report["W4"]["contenders"]["tinygrad_lab"]
    assert list(chains["by_length"]) == ["100", "300", "1000"]  # JSON keys are strings
    for row in chains["by_length"].values():
        assert row["forward_per_node_s"] > 0 and row["backward_per_node_s"] > 0
    memory = report["W5"]["contenders"]
    assert {"numpy", "tinygrad_lab"} <= set(memory)
    assert any(name.startswith("tinygrad_lab + recorder") for name in memory)
    for r in memory.values():
        assert list(r["by_steps"]) == ["50", "100", "200"]
        assert all(row["peak_bytes"] > 0 for row in r["by_steps"].values())
    workloads_with_targets = {t["workload"] for t in report["targets"]}
    assert workloads_with_targets == {"W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9"}
    assert "| W4 " in proc.stdout and "| W5 " in proc.stdout


def test_second_order_is_reported_in_gradients_time_and_agrees_with_torch(quick_run) -> None:
    proc, report = quick_run
    contenders = report["W8"]["contenders"]
    ours = contenders["tinygrad_lab"]
    assert ours["agrees"] and ours["relative_difference"] == {"hvp": 0.0, "hessian": 0.0}
    for name, r in contenders.items():
        if r["skipped"]:
            assert name == "torch" and "torch" in r["note"]
            continue
        assert r["agrees"], (name, r)
        assert r["hvp_gradients"] == r["seconds"]["hvp"] / r["seconds"]["gradient"] > 0
        assert any(
            line.startswith("| W8 ") and f"| {name} " in line for line in proc.stdout.splitlines()
        )
    (target,) = [t for t in report["targets"] if t["workload"] == "W8"]
    assert target["ratio"] == ours["hvp_gradients"] and "≤ 5 gradients" in target["what"]


W7_CONSTANTS = {  # the per-op floor's chains: tinygrad_lab's contender -> torch's on the same chain
    "tinygrad_lab": "torch",
    "tinygrad_lab, Python-number constants": "torch, Python-number constants",
}


def test_per_op_floor_is_reported_for_both_kinds_of_constants(quick_run) -> None:
    proc, report = quick_run
    contenders = report["W7"]["contenders"]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| W7 ")]
    targets = [t for t in report["targets"] if t["workload"] == "W7"]
    assert len(targets) == len(W7_CONSTANTS), targets
    for (ours, torch), target in zip(W7_CONSTANTS.items(), targets, strict=True):
        floor = contenders[ours]["by_length"]["100"]
        assert floor["forward_per_node_s"] > 0 and floor["backward_per_node_s"] > 0, ours
        assert any(f"| {ours} " in row and "| 100 " in row for row in rows), (ours, rows)
        if torch in contenders:
            assert contenders[torch]["by_length"]["100"]["backward_per_node_s"] > 0, torch
            assert any(f"| {torch} " in row and "| 100 " in row for row in rows), (torch, rows)
        else:  # torch's row says why, and the target is still listed, as not measured
            assert any(f"| {torch} " in row and "torch is not installed" in row for row in rows)
        assert (target["met"] is None) == (torch not in contenders), target
        assert target["met"] is None or target["ratio"] > 0, target
    assert "Python-number constants" in targets[1]["what"]
    assert "Python-number constants" not in targets[0]["what"]
    # the report's target lines name both
    assert sum(line.startswith("W7: ") for line in proc.stdout.splitlines()) == 2


def test_environment_is_pinned_for_the_run(quick_run) -> None:
    _, report = quick_run
    env = report["machine"]["environment"]
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "1"
    assert int(env["MALLOC_TRIM_THRESHOLD_"]) >= 1 << 20
    assert env["OPENBLAS_CORETYPE"] == ""  # unset for the run unless --keep-openblas-env


def test_lstm_step_is_timed_in_both_precisions_against_torch(quick_run) -> None:
    """W9: each precision's tinygrad_lab step has its target against torch's in that precision,
    and the float32 contenders agree with the float64 reference to their own tolerance."""
    _, report = quick_run
    (w9,) = [s for s in report["timing"] if s["key"] == "W9"]
    for name in ("numpy float32", "tinygrad_lab float32"):
        c = w9["contenders"][name]
        assert c["agrees"] and c["agreement"] == "within 0.0001", (name, c)
    assert w9["contenders"]["tinygrad_lab"]["agreement"] == "within 1e-09"
    targets = {t["what"]: t for t in w9["targets"]}
    assert set(targets) == {
        "tinygrad_lab ≤ 1.5× torch",
        "tinygrad_lab float32 ≤ 1.5× torch float32",
    }
    torch_ran = not w9["contenders"]["torch"]["skipped"]
    for t in targets.values():
        assert (t["met"] is None) == (not torch_ran), t
