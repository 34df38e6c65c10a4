"""`explore_command`: the lab's run-1 network at a chosen epoch, in the explorer; every argument
checked first, with a one-line error naming it, and nothing written on error."""

from __future__ import annotations

import numpy as np
import pytest
from explorer_helpers import ROLL, lab_loss, python_trace
from notebook_oracle import notebook_lab

from tinygrad_lab.lab.explore import explore_command, lab_explorer
from tinygrad_lab.lab.rules import RollNumberError


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
    data = lab_explorer(ROLL, hidden_layers=20).data
    layers = [data["ops"][i]["layer"] for i in data["backward"]]
    assert layers[:3] == ["MSELoss", "40:Linear", "39:ReLU"] and layers[-1] == "0:Linear"
    with pytest.raises(ValueError, match="hidden_layers must be a whole number >= 1, got 0"):
        lab_explorer(ROLL, hidden_layers=0)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (dict(roll="12"), RollNumberError, "bad roll number '12'"),
        (dict(roll="abc"), RollNumberError, "at least three decimal digits"),
        (dict(epoch=0), ValueError, "--epoch must be a whole number from 1 .* got 0"),
        (dict(epoch=401), ValueError, r"--epoch .* to 400 \(run 1's last epoch\), got 401"),
        (dict(epoch=1.5), ValueError, "--epoch must be a whole number"),
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
    import tinygrad_lab.lab.explore as lab_explore

    monkeypatch.setattr(lab_explore, "train", lambda *args: ([1.0], 2))
    with pytest.raises(ValueError, match="training diverged at epoch 2"):
        lab_explorer(ROLL, epoch=5)


@pytest.mark.needs_dot
def test_the_command_leaves_no_random_state_behind(tmp_path):
    state = np.random.get_state()[1].copy()
    explore_command(ROLL, out=tmp_path / "page.html")
    assert np.array_equal(np.random.get_state()[1], state)
