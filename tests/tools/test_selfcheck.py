"""The self-check as users run it: `compare` and `tinygrad-lab check`, which must agree with the
matrix-form reference and must fail, naming the layer, when a backward is wrong."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Function, nn
from tinygrad_lab.cli import main
from tinygrad_lab.lab import check as check_module
from tinygrad_lab.lab.check import check_lab
from tinygrad_lab.reference import NotAnMLPError, compare, format_table

ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.LeakyReLU]


@st.composite
def mlps(draw):
    depth = draw(st.integers(1, 6))
    widths = [draw(st.integers(1, 12)) for _ in range(depth + 1)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    layers = []
    for k in range(depth):
        layers.append(nn.Linear(widths[k], widths[k + 1], rng=rng))
        if k < depth - 1 and draw(st.booleans()):
            layers.append(draw(st.sampled_from(ACTIVATIONS))())
    batch = draw(st.integers(1, 30))
    X = rng.uniform(-2, 2, (batch, widths[0]))
    y = rng.uniform(-1, 1, (batch, widths[-1]))
    return nn.Sequential(*layers), X, y


@given(mlps())
def test_compare_agrees_with_the_reference_on_random_mlps(case):
    model, X, y = case
    rows = compare(model, X, y)
    assert len(rows) == sum(isinstance(m, nn.Linear) for m in model)
    for row in rows:
        assert row.worst_rel <= 1e-12, row
    assert "dW rel" in format_table(rows)


def test_compare_leaves_parameter_gradients_untouched():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
    model[0].weight.grad = np.full((3, 4), 7.0)
    compare(model, np.ones((5, 3)), np.zeros((5, 1)))
    assert np.all(model[0].weight.grad == 7.0) and model[2].weight.grad is None


def test_compare_names_a_layer_the_reference_cannot_express():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Conv2d(1, 1, 2), nn.Linear(4, 1))
    with pytest.raises(NotAnMLPError, match=r"layer 2 \(Conv2d\)"):
        compare(model, np.ones((2, 4)), np.ones((2, 1)))


def test_compare_names_the_shapes_of_x_y_and_the_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"X \(5, 2\) and y \(5, 1\).*\(3 → 2\)"):
        compare(model, np.ones((5, 2)), np.ones((5, 1)))


@pytest.mark.parametrize(
    ("roll", "seed"), [("102303346", 0), ("102303346", 11), ("987", 3), ("102303151", 5)]
)
def test_check_passes_for_rolls_and_seeds(roll, seed):
    result = check_lab(roll, seed, epochs=25)
    assert result["passed"] and result["first_failure"] is None
    for run in result["runs"].values():
        for worst in run["worst_relative"].values():
            assert max(worst.values()) <= result["gradient_tolerance"]
        assert run["final_loss_relative_difference"] <= result["loss_tolerance"]


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
    build = check_module.build_network

    def build_with_a_wrong_relu(config, rng):
        model = build(config, rng)
        model[5] = WrongReLU()  # the activation of Linear layer 4
        return model

    monkeypatch.setattr(check_module, "build_network", build_with_a_wrong_relu)
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


def test_compare_is_also_reachable_where_the_reference_lives():
    import tinygrad_lab as tl

    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Sigmoid(), nn.Linear(3, 2, rng=1))
    X, y = np.ones((4, 2)), np.zeros((4, 2))
    assert tl.reference.compare(model, X, y) == tl.compare(model, X, y) == compare(model, X, y)
