"""Dropout: its mask is exactly the documented draw from the given generator (so a run is
reproducible), its first and second derivatives equal central finite differences (float64), it
keeps the expected value, eval() turns it off, and it keeps float32."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lab import Tensor, gradcheck, gradgradcheck, nn, ops

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)
probabilities = st.floats(0.0, 0.95)


@given(shape=shapes, p=probabilities, seed=seeds)
def test_dropout_mask_is_the_generators_draw_and_survivors_are_scaled(shape, p, seed):
    x = np.random.default_rng(seed ^ 1).uniform(0.5, 2, shape)
    out = nn.Dropout(p, rng=np.random.default_rng(seed))(Tensor(x, requires_grad=True))
    keep = np.random.default_rng(seed).random(shape) >= p  # what the docstring promises
    np.testing.assert_allclose(out.data, np.where(keep, x / (1 - p), 0.0), rtol=1e-15)


@given(shape=shapes, p=probabilities, seed=seeds)
def test_dropout_first_and_second_derivatives_match_finite_differences(shape, p, seed):
    x = Tensor(np.random.default_rng(seed ^ 1).uniform(-2, 2, shape), requires_grad=True)
    # a fresh generator from the same seed at every call: the same mask each time
    assert gradcheck(lambda x: ops.Dropout.apply(x, p=p, rng=np.random.default_rng(seed)), [x])
    assert gradgradcheck(lambda x: ops.Dropout.apply(x, p=p, rng=np.random.default_rng(seed)), [x])


def test_the_same_seed_gives_the_same_masks_and_each_call_a_new_one():
    x = Tensor(np.ones((50, 40)))
    a, b = nn.Dropout(0.5, rng=7), nn.Dropout(0.5, rng=np.random.default_rng(7))
    first, second = a(x).data, a(x).data
    np.testing.assert_array_equal(first, b(x).data)
    np.testing.assert_array_equal(second, b(x).data)
    assert not np.array_equal(first, second)


def test_dropout_keeps_the_expected_value_and_drops_about_p():
    x = Tensor(np.ones((400, 500)))
    out = nn.Dropout(0.3, rng=0)(x).data
    assert set(np.unique(out)) == {0.0, 1 / 0.7}
    assert abs((out == 0).mean() - 0.3) < 0.005  # 200,000 draws: 5 standard deviations ≈ 0.005
    assert abs(out.mean() - 1.0) < 0.01


def test_eval_turns_dropout_off_and_train_turns_it_back_on():
    model = nn.Sequential(nn.Linear(3, 3, rng=0), nn.Dropout(0.9, rng=0))
    x = Tensor(np.ones((4, 3)))
    model.eval()
    np.testing.assert_array_equal(model(x).data, model[0](x).data)
    model.train()
    assert np.count_nonzero(model(x).data == 0) > 0


def test_dropout_with_p_zero_is_the_identity_and_p_one_drops_everything():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert nn.Dropout(0.0, rng=0)(x) is x
    out = nn.Dropout(1.0, rng=0)(x)
    np.testing.assert_array_equal(out.data, np.zeros((2, 3)))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))


def test_dropout_keeps_float32_in_forward_and_backward():
    x = Tensor(np.ones((8, 8), np.float32), requires_grad=True)
    out = nn.Dropout(0.5, rng=0)(x)
    assert out.dtype == np.float32
    assert out.grad_fn.saved_tensors[0].dtype == bool  # the mask kept: one byte an entry
    assert ops.Dropout.backward(out.grad_fn, np.ones((8, 8), np.float32)).dtype == np.float32


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_zero_one_is_an_error(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\]"):
        nn.Dropout(p)
