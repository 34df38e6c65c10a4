"""`explore_command`: the lab's run 1, 2 or 3 at a chosen epoch and depth, in the explorer, with
a "made at" line naming the run and the command that made the page; every argument checked
first, with a one-line error naming it, and nothing written on error."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from functools import cache

import numpy as np
import pytest
from explorer_helpers import ROLL, lab_loss, python_trace
from notebook_oracle import notebook_lab

import tinygrad_lab as tl
from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.explorer.explore import explore_command, lab_explorer
from tinygrad_lab.lab.rules import LabRun, RollNumberError, lab_config
from tinygrad_lab.lab.stress.part_a import TrainingObserver, run_stress_test


@pytest.mark.needs_dot
def test_epoch_1_is_the_first_forward_and_backward_before_any_update(tmp_path):
    path = explore_command(ROLL, seed=0, epoch=1, out=tmp_path / "page.html")
    assert path == tmp_path / "page.html" and path.read_text().startswith("<!DOCTYPE html>")
    model, loss = lab_loss()  # the network and data as lab/graph.py draws them
    trace = python_trace(loss, model)
    data = lab_explorer(ROLL, seed=0, epoch=1).data
    assert data["meta"]["loss"] == loss.item()
    assert [data["ops"][i]["grad_in"] for i in data["backward"]] == [
        r.grad_in_norm for r in trace.records
    ]
    assert "roll 102303346 · run 1 (5 hidden layers of 12, relu) · seed 0 · epoch 1" in (
        path.read_text()
    )


@pytest.mark.needs_dot
def test_epoch_e_is_the_pass_after_e_minus_1_updates_as_the_notebook_trains():
    for epoch in (2, 4):
        run1 = notebook_lab(ROLL, seed=3, epochs=epoch)[0]  # the course notebook's own code
        data = lab_explorer(ROLL, seed=3, epoch=epoch).data
        weight = next(t for t in data["tensors"].values() if t["name"] == "0.weight")
        assert data["meta"]["loss"] == pytest.approx(run1["loss_history"][-1], rel=1e-12)
        assert weight["grad"]["norm"] == pytest.approx(run1["grad_first"], rel=1e-9)


@pytest.mark.needs_dot
def test_a_deeper_lab_network_for_the_depth_20_check():
    data = lab_explorer(ROLL, depth=20).data
    layers = [data["ops"][i]["layer"] for i in data["backward"]]
    assert layers[:3] == ["MSELoss", "40:Linear", "39:ReLU"] and layers[-1] == "0:Linear"


class _Enough(Exception):
    """Stops the lab's training once every pass a test needs has been seen."""


@cache
def lab_passes(seed: int, depth: int | None, wanted: frozenset) -> dict:
    """``{(run name, epoch): (loss, {parameter: ‖grad‖})}``: what the lab's own training
    (`run_stress_test`) computes at those epochs of those runs, before their update."""
    config = lab_config(ROLL)
    if depth is not None:
        config = dataclasses.replace(config, hidden_layers=depth)
    seen: dict = {}

    class Keep(TrainingObserver):
        def epoch_done(self, name, epoch, model, loss):
            if (name, epoch) in wanted:
                grads = {n: np.linalg.norm(p.grad) for n, p in model.named_parameters()}
                seen[name, epoch] = (loss, grads)
                if len(seen) == len(wanted):
                    raise _Enough

    with pytest.raises(_Enough):
        run_stress_test(LabRun(config, seed), Keep())
    return seen


def page_pass(data: dict) -> tuple[float, dict[str, float]]:
    grads = {
        t["name"]: t["grad"]["norm"] for t in data["tensors"].values() if t["kind"] == "parameter"
    }
    return data["meta"]["loss"], grads


LAB_PASSES = {  # (seed, depth): [(run, epoch)]
    (2, None): [(2, 1), (2, 6), (3, 3)],
    (4, 2): [(2, 3)],
}


@pytest.mark.needs_dot
@pytest.mark.parametrize(
    ("seed", "depth", "run", "epoch"),
    [
        (seed, depth, run, epoch)
        for (seed, depth), runs in LAB_PASSES.items()
        for run, epoch in runs
    ],
)
def test_runs_2_and_3_are_the_labs_networks_at_that_epoch(seed, depth, run, epoch):
    wanted = frozenset((f"run{r}", e) for r, e in LAB_PASSES[seed, depth])
    loss, grads = lab_passes(seed, depth, wanted)[f"run{run}", epoch]
    data = lab_explorer(ROLL, seed=seed, epoch=epoch, run=run, depth=depth).data
    page_loss, page_grads = page_pass(data)
    hidden = (depth or lab_config(ROLL).hidden_layers) + 3  # the example roll adds 3 at the break
    assert len(page_grads) == 2 * (hidden + 1)  # a weight and a bias a Linear layer
    assert page_grads.keys() == grads.keys()
    assert page_loss == pytest.approx(loss, rel=1e-12)
    for name, norm in grads.items():
        assert page_grads[name] == pytest.approx(norm, rel=1e-12), name


@pytest.mark.needs_dot
def test_run_2_at_its_last_epoch_gives_the_notebooks_run_2_figures():
    run2 = notebook_lab(ROLL, seed=1)[1]  # the course notebook's own code, its 400 epochs
    data = lab_explorer(ROLL, seed=1, epoch=400, run=2).data
    loss, grads = page_pass(data)
    weights = [name for name in grads if name.endswith("weight")]
    assert len(weights) == 9  # 8 hidden layers and the output
    assert loss == pytest.approx(run2["loss_history"][-1], rel=1e-12)
    assert grads[weights[0]] == pytest.approx(run2["grad_first"], rel=1e-9)
    assert grads[weights[-2]] == pytest.approx(run2["grad_last"], rel=1e-9)


def embedded_data(page: str) -> dict:
    return json.loads(re.search(r'id="explorer-data">(.*?)</script>', page, re.S).group(1))


@pytest.mark.needs_dot
def test_made_at_names_the_run_and_the_command_that_remakes_the_page(tmp_path):
    data = lab_explorer(ROLL, seed=4, epoch=3, run=2, depth=2).data
    made_at = data["meta"]["made_at"]
    assert made_at == (
        "roll 102303346 · run 2 (5 hidden layers of 12, relu: 2 before the break + 3 added at "
        "it; --depth 2, the roll's is 5) · seed 4 · epoch 3 · made by tinygrad_lab "
        f"{tl.__version__}: tinygrad-lab explore --roll 102303346 --run 2 --depth 2 --epoch 3 "
        "--seed 4"
    )
    assert {op["site"] for op in data["ops"].values()} == {made_at}  # no code line, no path
    command = made_at.split(f"tinygrad_lab {tl.__version__}: ", 1)[1]
    assert main([*shlex.split(command)[1:], "--out", str(tmp_path / "again.html")]) == 0
    again = embedded_data((tmp_path / "again.html").read_text(encoding="utf-8"))
    assert again["meta"] == data["meta"] and page_pass(again) == page_pass(data)


@pytest.mark.needs_dot
def test_made_at_of_run_1_at_the_rolls_depth():
    data = lab_explorer(ROLL, seed=0, epoch=1).data
    assert data["meta"]["made_at"] == (
        f"roll 102303346 · run 1 (5 hidden layers of 12, relu) · seed 0 · epoch 1 · made by "
        f"tinygrad_lab {tl.__version__}: tinygrad-lab explore --roll 102303346 --run 1 "
        "--depth 5 --epoch 1 --seed 0"
    )


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (dict(roll="12"), RollNumberError, "bad roll number '12'"),
        (dict(roll="abc"), RollNumberError, "at least three decimal digits"),
        (dict(epoch=0), ValueError, "--epoch must be a whole number from 1 .* got 0"),
        (dict(epoch=401), ValueError, r"--epoch .* to 400 \(run 1's last epoch\), got 401"),
        (dict(epoch=1.5), ValueError, "--epoch must be a whole number"),
        (dict(epoch=401, run=3), ValueError, r"to 400 \(run 3's last epoch\), got 401"),
        (dict(run=4), ValueError, r"--run must be 1 \(before the structural break\), 2 .* got 4"),
        (dict(run=0), ValueError, "--run must be 1 .*, 2 .* or 3 .*, got 0"),
        (dict(run=2.0), ValueError, "--run must be 1 .* got 2.0"),
        (dict(run=True), ValueError, "--run must be 1 .* got True"),
        (
            dict(depth=0),
            ValueError,
            r"--depth must be a whole number >= 1 \(run 1's hidden layers; roll "
            r"102303346's is 5\), got 0",
        ),
        (dict(depth=-2), ValueError, "--depth must be a whole number >= 1 .* got -2"),
        (dict(depth=2.5), ValueError, "--depth must be a whole number >= 1 .* got 2.5"),
        (dict(seed=-1), ValueError, "--seed must be a whole number from 0 to 4294967295"),
        (dict(out="page.svg"), ValueError, "--out 'page.svg' must end in .html"),
        (dict(out="missing/page.html"), FileNotFoundError, "--out .*does not exist"),
        (dict(out="taken.html"), IsADirectoryError, "--out .* is a folder"),
    ],
)
def test_each_bad_argument_is_one_line_naming_it(tmp_path, monkeypatch, arguments, error, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken.html").mkdir()
    before = sorted(tmp_path.rglob("*"))
    call = dict(roll=ROLL, seed=0, epoch=1, out="page.html") | arguments
    with pytest.raises(error, match=message) as err:
        explore_command(call.pop("roll"), **call)
    assert "\n" not in str(err.value)
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.needs_dot
def test_a_diverging_run_names_the_epoch_it_diverged(monkeypatch):
    import tinygrad_lab.lab.explorer.explore as lab_explore

    monkeypatch.setattr(lab_explore, "train", lambda *args: ([1.0], 2))
    with pytest.raises(ValueError, match="training diverged at epoch 2 of run 1"):
        lab_explorer(ROLL, epoch=5)
    with pytest.raises(ValueError, match="run 2: run 1 diverged at its epoch 2 .* before epoch 2"):
        lab_explorer(ROLL, epoch=5, run=2)


@pytest.mark.needs_dot
def test_the_command_leaves_no_random_state_behind(tmp_path):
    state = np.random.get_state()[1].copy()
    explore_command(ROLL, out=tmp_path / "page.html")
    assert np.array_equal(np.random.get_state()[1], state)
