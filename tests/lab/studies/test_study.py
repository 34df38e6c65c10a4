"""Studies: a study's per-seed figures are the lab's (seed s is `stress-test --seed s`), its
summaries and finding are computed from them, its files are whole, its bad input is one line."""

import csv
import io
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import LabRun, lab_config
from tinygrad_lab.lab.stress.part_a import run_stress_test
from tinygrad_lab.lab.studies.compute import (
    SettingResult,
    Study,
    StudyResult,
    run_study,
    study_metrics,
)
from tinygrad_lab.lab.studies.findings import finding
from tinygrad_lab.lab.studies.report import csv_text, to_json, write_study
from tinygrad_lab.lab.studies.seed_axis import RunFigures, SeedFigures

ROLL = "102303346"
REL = 1e-12


def assert_lab_run(figures: RunFigures, lab) -> None:
    """A study's figures of a run against the lab's RunResult, to 1e-12 relative."""
    np.testing.assert_allclose(figures.loss_history, lab.loss_history, rtol=REL, atol=0)
    for name in ("grad_norm_first", "grad_norm_last", "gri", "r2", "final_loss"):
        np.testing.assert_allclose(getattr(figures, name), getattr(lab, name), rtol=REL, atol=0)
    assert figures.dead_layers == len(lab.dead_layers)
    assert figures.diverged_at == lab.diverged_at is None


def test_at_the_rolls_own_setting_each_seed_is_the_labs_stress_test():
    config = lab_config(ROLL)
    study = Study(
        "depth", config, seeds=(0, 1, 2), depths=(config.hidden_layers,), activations=("relu",)
    )
    (setting,) = run_study(study, progress=False).settings
    for figures in setting.seeds:
        lab = run_stress_test(LabRun.from_roll(ROLL, seed=figures.seed)).run1
        assert_lab_run(figures.run1, lab)
        # the losses the lab reports, at epochs 1, 100 and 400
        for epoch, loss in lab.losses.items():
            assert figures.run1.loss_history[epoch - 1] == pytest.approx(loss, rel=REL)


def test_the_init_studys_lab_init_is_both_runs_of_the_stress_test():
    study = Study("init", lab_config(ROLL), seeds=(4, 11), inits=("lab", "kaiming_normal"))
    lab_init = run_study(study, progress=False).settings[0]
    assert lab_init.setting.value("init") == "lab"
    for figures in lab_init.seeds:
        lab = run_stress_test(LabRun.from_roll(ROLL, seed=figures.seed))
        assert_lab_run(figures.run1, lab.run1)
        assert_lab_run(figures.run2, lab.run2)


def test_the_study_command_gives_stress_test_figures(capsys):
    args = ["--roll", ROLL, "--epochs", "60", "--json"]
    assert (
        main(["study", "depth", "--depths", "5", "--activations", "relu", "--seeds", "3-4", *args])
        == 0
    )
    study = json.loads(capsys.readouterr().out)
    seeds = study["settings"][0]["seeds"]
    for seed in seeds:
        assert main(["stress-test", "--seed", str(seed["seed"]), *args]) == 0
        run1 = json.loads(capsys.readouterr().out)["part_a"]["run1"]
        for name in ("gri", "grad_norm_first", "grad_norm_last", "r2", "final_loss"):
            assert math.isclose(seed[name], run1[name], rel_tol=REL), name
        for epoch, loss in run1["losses"].items():
            assert math.isclose(seed[f"loss.{epoch}"], loss, rel_tol=REL)


def test_a_pool_and_any_executor_give_the_figures_of_one_process():
    study = Study("lr", lab_config(ROLL), seeds=tuple(range(7)), epochs=15, lrs=(0.01, 0.9))
    alone = run_study(replace(study), executor=None, workers=1, progress=False)
    with ThreadPoolExecutor(2) as pool:
        threads = run_study(study, executor=pool, progress=False)
    pooled = run_study(study, workers=2, progress=False)
    assert to_json(alone) == to_json(threads) == to_json(pooled)
    assert [s.seed for s in alone.settings[0].seeds] == list(range(7))


# ------------------------------------------------------------------------------ figures
def _run(gri, r2=0.5, dead=0, diverged=None, norm=1.0) -> RunFigures:
    history = [1.0] * (5 if diverged is None else diverged - 1)
    return RunFigures(3, history, norm * gri if gri else 0.0, norm, gri, None, r2, dead, diverged)


def _depth_result(gri_by_depth: dict[str, list[float]], r2=0.5) -> StudyResult:
    """A depth study whose every seed has the given median GRI at each depth."""
    config = lab_config(ROLL)
    depths = tuple(range(1, len(next(iter(gri_by_depth.values()))) + 1))
    study = Study(
        "depth", config, seeds=(0, 1, 2), epochs=5, depths=depths, activations=tuple(gri_by_depth)
    )
    settings = study.settings()
    results = []
    for s in settings:
        gri = gri_by_depth[s.value("activation")][s.value("depth") - 1]
        seeds = tuple(SeedFigures(k, _run(gri * (0.9 + 0.1 * k), r2)) for k in range(3))
        results.append(SettingResult(s, seeds))
    return StudyResult(study, tuple(results))


def test_the_finding_is_computed_from_the_figures():
    falls = _depth_result({"sigmoid": [1, 0.5, 0.05, 0.01], "relu": [1, 1, 0.9, 0.8]})
    text = finding(falls)
    assert "falls below 0.1 (vanishing, by the lab's threshold) at depth 3 for sigmoid" in text
    assert "never for relu up to depth 4" in text
    together = _depth_result(
        {"relu": [1, 0.05, 0.01], "tanh": [1, 0.5, 0.05], "leaky_relu": [1, 0.05, 0]}
    )
    assert "at depth 2 for relu and leaky_relu, and depth 3 for tanh" in finding(together)
    never = _depth_result({"tanh": [1, 2, 3, 4]})
    assert "Median GRI never falls below 0.1 up to depth 4" in finding(never)
    exploding = _depth_result({"tanh": [1, 2, 30, 40]})
    assert "rises above 10.0 (exploding) for tanh" in finding(exploding)
    mean_like = _depth_result({"relu": [1, 1, 1, 1]}, r2=0.01)
    assert "predicts little more than the mean (R² < 0.05) from depth 1 for relu" in finding(
        mean_like
    )


def test_summaries_are_the_medians_and_quartiles_of_the_seeds():
    result = _depth_result({"relu": [1.0, 0.5]})
    document = to_json(result)
    for setting, json_setting in zip(result.settings, document["settings"], strict=True):
        values = [seed["gri"] for seed in json_setting["seeds"]]
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        summary = json_setting["summary"]["gri"]
        assert (summary["q1"], summary["median"], summary["q3"]) == (q1, median, q3)
        assert json_setting["summary"]["diverged"] == {"share": 0.0, "runs": 3}
        assert json_setting["setting"] == setting.setting.label


def test_diverged_seeds_are_counted_and_left_out_of_the_quartiles():
    study = Study("lr", lab_config(ROLL), seeds=(0, 1, 2, 3), epochs=5, lrs=(0.5,))
    (setting,) = study.settings()
    seeds = [SeedFigures(k, _run(1.0 + k)) for k in range(3)]
    seeds.append(SeedFigures(3, _run(None, r2=None, dead=None, diverged=3, norm=math.nan)))
    result = StudyResult(study, (SettingResult(setting, tuple(seeds)),))
    summary = to_json(result)["settings"][0]["summary"]
    assert summary["diverged"]["share"] == 0.25
    assert summary["final_loss"]["undefined"] == 1 and summary["gri"]["undefined"] == 1
    assert summary["gri"]["median"] == 2.0
    assert "most at activation relu, lr 0.5 (25% of the seeds)" in finding(result)


def test_the_csv_is_long_form_one_row_a_seed_and_figure():
    result = _depth_result({"relu": [1.0, 0.5], "tanh": [1.0, 0.9]})
    rows = list(csv.reader(io.StringIO(csv_text(result))))
    assert rows[0] == ["study", "setting", "seed", "metric", "value"]
    metrics = study_metrics("depth", 5)
    assert len(rows) - 1 == 4 * 3 * len(metrics)  # settings × seeds × figures
    assert rows[1][:4] == ["depth", "activation=relu;depth=1", "0", "gri"]
    assert {row[3] for row in rows[1:]} == {m.name for m in metrics}
    diverged_at = [row for row in rows[1:] if row[3] == "diverged_at"]
    assert {row[4] for row in diverged_at} == {""}  # undefined: an empty cell


# ------------------------------------------------------------------------------ files
def test_out_gets_the_report_csv_json_and_plots(tmp_path, capsys):
    out = tmp_path / "study"
    argv = ["study", "lr", "--lrs", "0.001,0.1,0.9", "--seeds", "0-5", "--epochs", "20"]
    assert main([*argv, "--activations", "relu,tanh", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == ["lr.png", "study.csv", "study.json", "study.md"]
    document = json.loads((out / "study.json").read_text())
    assert document["study"] == "lr" and len(document["settings"]) == 6
    report = (out / "study.md").read_text()
    assert document["finding"] in report and document["finding"] in printed
    assert "## Medians and quartiles" in report and "![lr.png](lr.png)" in report
    assert (out / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_interrupted_write_leaves_no_file_that_looks_complete(tmp_path, monkeypatch):
    from tinygrad_lab.lab import study_plots

    def plots_then_fail(result, files, out):
        files.write(out / "gri.png", b"\x89PNG half a plot")
        raise KeyboardInterrupt

    monkeypatch.setattr(study_plots, "plot_study", plots_then_fail)
    with pytest.raises(KeyboardInterrupt):
        write_study(_depth_result({"relu": [1.0]}), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["depth", "--depths", "5-2"], "argument --depths: expected hidden depths"),
        (["depth", "--depths", "0-3"], "depth 0 has no hidden layer"),
        (["depth", "--depths", ""], "argument --depths"),
        (["depth", "--activations", "relu,swish"], "unknown activation 'swish'"),
        (["depth", "--activations", "relu,relu"], "each once"),
        (["init", "--inits", "orthogonal"], "argument --inits: unknown init 'orthogonal'"),
        (["lr", "--lrs", "0:1:5"], "learning rates must be positive, got 0"),
        (["lr", "--lrs", "0.1,-1"], "learning rates must be positive, got -1"),
        (["lr", "--lrs", "1:0.1:5"], "LOW must not exceed HIGH"),
        (["lr", "--lrs", "fast"], "argument --lrs: expected learning rates"),
        (["lr", "--depths", "3"], "argument --depths: only the depth study takes it"),
        (["depth", "--added-layers", "2"], "argument --added-layers: only the init study"),
        (["depth", "--seeds", "9-3"], "argument --seeds: bad seed range '9-3': it is reversed"),
        (["depth", "--epochs", "0"], "argument --epochs: expected epochs"),
        (["depth", "--workers", "0"], "argument --workers"),
        (["depth", "--roll", "12"], "argument --roll: bad roll number '12'"),
        (["width"], "argument KIND: invalid choice: 'width'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    code = main(["study", *argv, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert not out.exists()


def test_the_api_names_what_it_cannot_study():
    config = lab_config(ROLL)
    for kwargs, message in [
        ({"depths": (0,)}, "bad depth 0"),
        ({"depths": ()}, "needs at least one depth"),
        ({"seeds": (-1,)}, "bad seed -1"),
        ({"activations": ("swish",)}, "unknown activation 'swish'"),
    ]:
        with pytest.raises(ValueError, match=message):
            Study("depth", config, **kwargs)
    with pytest.raises(ValueError, match="bad learning rate 0"):
        Study("lr", config, lrs=(0.1, 0))
    with pytest.raises(ValueError, match="unknown study 'width'"):
        Study("width", config)


def _distributed():
    """Dask's distributed, which CI installs (the dask extra): fails there if missing."""
    if os.environ.get("CI") == "true":
        import distributed

        return distributed
    return pytest.importorskip("distributed")


def test_the_scheduler_option_runs_a_study_on_dask_with_the_local_figures(capsys):
    distributed = _distributed()
    saved = dict(os.environ)  # the nannies set glibc and BLAS variables: put them back after
    argv = ["study", "depth", "--depths", "2,4", "--seeds", "0-3", "--epochs", "10", "--json"]
    try:
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            assert main([*argv, "--scheduler", cluster.scheduler_address]) == 0
            remote = json.loads(capsys.readouterr().out)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert main(argv) == 0
    assert remote == json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "script, argv",
    [
        ("depth_study.py", ["--depths", "1,2", "--activations", "relu"]),
        ("init_study.py", ["--inits", "lab,xavier_normal"]),
        ("lr_study.py", ["--lrs", "0.01,0.1"]),
    ],
)
def test_the_experiment_scripts_run_their_study(script, argv):
    path = Path(__file__).resolve().parents[3] / "experiments" / script
    tiny = ["--seeds", "0-1", "--epochs", "3", "--json", "--no-progress"]
    done = subprocess.run([sys.executable, str(path), *argv, *tiny], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["study"] == script.removesuffix("_study.py")


def test_the_q4_script_compares_specs(tmp_path):
    path = Path(__file__).resolve().parents[3] / "experiments" / "spec_against.py"
    roster = tmp_path / "roster.csv"
    roster.write_text(f"{ROLL}\n102303347\n")
    argv = [sys.executable, str(path), "--rolls", str(roster), "--against", ROLL, "--json"]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [d["differences"] for d in json.loads(done.stdout)] == [0, 7]


def test_the_lr_finding_names_the_best_rate_and_where_it_overshoots():
    study = Study("lr", lab_config(ROLL), seeds=(0, 1, 2), epochs=5, lrs=(0.01, 0.1, 1.0))
    losses = {0.01: 0.5, 0.1: 0.2, 1.0: None}  # None: every seed diverged
    results = []
    for s in study.settings():
        loss = losses[s.value("lr")]
        run = _run(1.0, r2=0.01) if loss is not None else _run(None, None, None, 3, math.nan)
        if loss is not None:
            run = replace(run, loss_history=[loss] * 5)
        results.append(SettingResult(s, tuple(SeedFigures(k, run) for k in range(3))))
    text = finding(StudyResult(study, tuple(results)))
    assert "the best learning rate is 0.1 (median final loss 0.2, R² 0.01" in text
    assert "still predicts little more than the mean" in text
    assert "a larger rate overshoots: from 1 on, at least half of the seeds diverge" in text
