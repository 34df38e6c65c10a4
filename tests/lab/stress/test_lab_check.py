"""`tinygrad-lab check`: the lab's training checked against the matrix-form reference at every
epoch; it must pass for the lab's rolls and fail, naming the layer, when a backward is wrong."""

import json
import math

import numpy as np
import pytest

from tinygrad_lab import Function, nn
from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress import part_a
from tinygrad_lab.lab.stress.check import check_lab


@pytest.mark.parametrize(
    ("roll", "seed"), [("102303346", 0), ("102303346", 11), ("987", 3), ("102303151", 5)]
)
def test_check_passes_for_rolls_and_seeds(roll, seed):
    result = check_lab(LabRun.from_roll(roll, seed, 25))
    assert result.passed and result.first_failure is None
    for run in result.runs.values():
        for worst in run.worst_relative.values():
            assert max(worst.values()) <= result.gradient_tolerance
        assert run.final_loss_relative_difference <= result.loss_tolerance


class SlightlyWrongReLU(Function):
    """ReLU whose backward is off by one part in a million: what check must catch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0) * (1 + 1e-6)


class WrongReLU(nn.ReLU):
    def forward(self, x):
        return SlightlyWrongReLU.apply(x)


def test_check_fails_naming_the_layer_whose_backward_is_wrong(monkeypatch, capsys):
    build = part_a.build_network

    def build_with_a_wrong_relu(config, rng):
        model = build(config, rng)
        model[5] = WrongReLU()  # the activation of Linear layer 4
        return model

    monkeypatch.setattr(part_a, "build_network", build_with_a_wrong_relu)
    code = main(["check", "--roll", "102303346", "--epochs", "3", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and not result["passed"]
    failure = result["first_failure"]
    assert (failure["run"], failure["epoch"], failure["layer"]) == ("run1", 1, "4:Linear")
    assert failure["quantity"] == "dZ"
    code = main(["check", "--roll", "102303346", "--epochs", "2"])
    assert code == 1 and "FAIL: run1, epoch 1, layer 4:Linear" in capsys.readouterr().out


def test_check_command_bad_input_is_exit_2(capsys):
    assert main(["check", "--roll", "1x3"]) == 2
    assert main(["check", "--roll", "102303346", "--seeds", "5-1"]) == 2
    err = capsys.readouterr().err
    assert "at least three decimal digits" in err and "reversed" in err


def test_check_fails_after_divergence_instead_of_passing_on_nan(capsys):
    # identity activations at this roll's learning rate: the loss is not finite from epoch 5
    argv = ["check", "--roll", "102300990", "--activation", "identity"]
    assert main([*argv, "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert not result["passed"]
    failure = result["first_failure"]
    assert (failure["run"], failure["epoch"]) == ("run1", 5)
    assert failure["reason"].startswith("cannot compare after divergence at epoch 5")
    assert result["runs"]["run1"]["epochs_compared"] == 4
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "FAIL: run1, epoch 5: cannot compare after divergence at epoch 5" in out
    assert "PASS" not in out


class NaNReLU(Function):
    """ReLU whose backward gives NaN: a difference of NaN must not read as agreement."""

    @staticmethod
    def forward(ctx, x):
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        return grad * np.nan


class NaNReLULayer(nn.ReLU):
    def forward(self, x):
        return NaNReLU.apply(x)


def test_a_non_finite_gradient_difference_is_a_failure(monkeypatch):
    build = part_a.build_network

    def build_with_a_nan_relu(config, rng):
        model = build(config, rng)
        model[5] = NaNReLULayer()
        return model

    monkeypatch.setattr(part_a, "build_network", build_with_a_nan_relu)
    result = check_lab(LabRun.from_roll("102303346", 0, 2))
    assert not result.passed
    failure = result.first_failure
    assert (failure.run, failure.epoch, failure.layer) == ("run1", 1, "4:Linear")
    assert "not finite" in failure.reason
    assert math.isnan(result.runs["run1"].worst_relative["4:Linear"]["dZ"])
