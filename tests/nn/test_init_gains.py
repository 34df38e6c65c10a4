"""The gain-matched initializers: PyTorch's gains, the normal draws (Glorot's and He's variances,
one draw of the whole shape from the generator) and Kaiming's bound for a given gain."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import nn
from tinygrad_lab.tensor import Tensor

seeds = st.integers(0, 2**32 - 1)


def test_gains_are_pytorchs():
    gain = nn.init.calculate_gain
    assert gain("linear") == gain("identity") == gain("sigmoid") == 1.0
    assert gain("tanh") == 5 / 3
    assert gain("relu") == math.sqrt(2)
    assert gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="unknown nonlinearity 'softsign'"):
        gain("softsign")


@given(seed=seeds, rows=st.integers(1, 30), cols=st.integers(1, 30), gain=st.floats(0.1, 3))
def test_normal_inits_are_one_draw_with_glorots_and_hes_std(seed, rows, cols, gain):
    expected_std = {
        lambda t, rng: nn.init.xavier_normal_(t, gain, rng=rng): gain
        * math.sqrt(2 / (rows + cols)),
        lambda t, rng: nn.init.kaiming_normal_(t, gain=gain, rng=rng): gain / math.sqrt(rows),
        lambda t, rng: nn.init.kaiming_normal_(t, a=0.5, rng=rng): math.sqrt(2 / 1.25)
        / math.sqrt(rows),
        lambda t, rng: nn.init.normal_(t, 0.0, gain, rng=rng): gain,
    }
    for fill, std in expected_std.items():
        t = Tensor(np.zeros((rows, cols)))
        assert fill(t, np.random.RandomState(seed)) is t
        np.testing.assert_array_equal(
            t.data, np.random.RandomState(seed).normal(0, std, (rows, cols))
        )


def test_normal_draws_have_the_stated_spread():
    t = Tensor(np.zeros((400, 100)))
    nn.init.kaiming_normal_(t, rng=np.random.default_rng(0))  # std √(2/400)
    assert abs(t.data.std() / math.sqrt(2 / 400) - 1) < 0.02
    with pytest.raises(ValueError, match="std must be >= 0"):
        nn.init.normal_(t, 0.0, -1.0)


@given(seed=seeds, rows=st.integers(1, 30), cols=st.integers(1, 30))
def test_kaiming_uniform_with_a_gain_has_pytorchs_bound(seed, rows, cols):
    t = Tensor(np.zeros((rows, cols)))
    nn.init.kaiming_uniform_(t, gain=5 / 3, rng=np.random.default_rng(seed))
    bound = 5 / 3 * math.sqrt(3 / rows)
    np.testing.assert_array_equal(
        t.data, np.random.default_rng(seed).uniform(-bound, bound, (rows, cols))
    )
    # without a gain it is the ReLU-family rule of before
    nn.init.kaiming_uniform_(t, a=0.0, rng=np.random.default_rng(seed))
    relu = math.sqrt(6 / rows)
    np.testing.assert_array_equal(
        t.data, np.random.default_rng(seed).uniform(-relu, relu, (rows, cols))
    )


def test_the_factories_fill_a_linear_layer():
    rng = np.random.RandomState(3)
    layer = nn.Linear(12, 12, init=nn.init.kaiming_normal(gain=2.0), rng=rng)
    expected = np.random.RandomState(3).normal(0, 2 / math.sqrt(12), (12, 12))
    np.testing.assert_array_equal(layer.weight.data, expected)
    np.testing.assert_array_equal(layer.bias.data, 0.0)
    xavier = nn.Linear(3, 12, init=nn.init.xavier_normal(1.5), rng=np.random.RandomState(4))
    expected = np.random.RandomState(4).normal(0, 1.5 * math.sqrt(2 / 15), (3, 12))
    np.testing.assert_array_equal(xavier.weight.data, expected)
