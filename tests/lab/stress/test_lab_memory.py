"""Memory is bounded by design: the epochs have a documented maximum, the recorder keeps only
the rows it reads back, and the weight-gradient series keeps a fixed budget of steps (every
k-th beyond it, stated in the report)."""

import tracemalloc

import pytest

from tinygrad_lab import nn
from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import MAX_EPOCHS, LabRun
from tinygrad_lab.lab.stress import part_a
from tinygrad_lab.lab.stress.compute import compute_lab
from tinygrad_lab.lab.stress.part_a import (
    TrainingObserver,
    run_stress_test,
    series_stride,
    weight_grad_norm_series,
)
from tinygrad_lab.lab.stress.report import markdown_report

SMALL = "102303300"  # width 6, 4 hidden layers: quick to train


class FullRecorder(TrainingObserver):
    """A second recorder on the network that keeps every row: what the lab's series must
    equal at the steps it keeps."""

    def run_started(self, name, model, X, y):
        if name == "run1":
            self.recorder = nn.GradientRecorder(model)


def _peak(epochs):
    tracemalloc.start()
    run_stress_test(LabRun.from_roll(SMALL, 0, epochs))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_memory_grows_with_the_epochs_by_the_loss_histories_only(monkeypatch):
    monkeypatch.setattr(part_a, "SERIES_BUDGET", 100)  # the budget is reached at 50 epochs
    short, long = _peak(100), _peak(500)
    history = 2 * 400 * 40  # 400 more epochs, two runs, a list slot and a float each
    # every step's recorder rows (about 60 a step) would add about 10 MB
    assert long - short < history + 200_000, (short, long)


def test_the_series_keeps_every_kth_step_beyond_its_budget_and_the_report_says_so(monkeypatch):
    monkeypatch.setattr(part_a, "SERIES_BUDGET", 40)
    run = LabRun.from_roll(SMALL, 1, 50)  # 150 steps (three runs): every 4th
    full = FullRecorder()
    stress = run_stress_test(run, full)
    assert stress.weight_grad_norm_series_stride == series_stride(50) == 4
    every_step = weight_grad_norm_series(full.recorder)
    assert list(stress.weight_grad_norm_series) == list(every_step)
    for label, values in stress.weight_grad_norm_series.items():
        assert values == every_step[label][::4] and len(values) == 38
    result = compute_lab(run, parts=("a",))
    assert result.to_json()["part_a"]["weight_grad_norm_series_stride"] == 4
    report = markdown_report(result)
    assert "keeps one step in 4 (steps 1, 5, 9, …): it has a budget of 40 steps" in report


def test_at_the_lab_s_epochs_the_series_keeps_every_step_to_the_bit():
    full = FullRecorder()
    stress = run_stress_test(LabRun.from_roll("102303346", 3, 400), full)
    assert stress.weight_grad_norm_series_stride == 1
    assert stress.weight_grad_norm_series == weight_grad_norm_series(full.recorder)
    assert all(len(v) == 1200 for v in stress.weight_grad_norm_series.values())  # three runs


def test_epochs_above_the_documented_maximum_are_refused(capsys):
    assert MAX_EPOCHS == 100_000
    with pytest.raises(ValueError, match="at most 100,000"):
        LabRun.from_roll(SMALL, 0, MAX_EPOCHS + 1)
    assert main(["stress-test", "--roll", SMALL, "--epochs", "10000000"]) == 2
    err = capsys.readouterr().err
    assert "--epochs: must be at most 100,000" in err and len(err.strip().splitlines()) == 1


def test_the_gradient_series_follow_each_layer_across_the_break_not_its_label():
    full = FullRecorder()
    stress = run_stress_test(LabRun.from_roll("102303346", 0, 20), full)
    series = weight_grad_norm_series(full.recorder)
    assert list(series) == [f"{k}:Linear" for k in range(0, 17, 2)]  # layer order
    # in run 1 the label 10:Linear was the output layer; in run 2 it is an inserted layer
    run1_output = [norm for step, norm in full.recorder.series("10:Linear", "weight_grad_norm")]
    assert series["16:Linear"][:20] == run1_output[:20]  # the output layer, before the break
    assert series["10:Linear"][:20] == [None] * 20  # the inserted layer did not exist yet
    assert series == stress.weight_grad_norm_series
