"""The self-check as users run it: `compare`, which must agree with the matrix-form reference
(the lab's `tinygrad-lab check` is tested in tests/lab/test_lab_check.py)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import nn
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


def test_compare_is_also_reachable_where_the_reference_lives():
    import tinygrad_lab as tl

    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Sigmoid(), nn.Linear(3, 2, rng=1))
    X, y = np.ones((4, 2)), np.zeros((4, 2))
    assert tl.reference.compare(model, X, y) == tl.compare(model, X, y) == compare(model, X, y)
