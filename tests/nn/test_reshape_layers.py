"""Flatten, Unflatten and Identity as PyTorch's: Flatten(start_dim, end_dim) against NumPy's
reshape over random shapes and dims, Unflatten its inverse, gradients passed back unchanged;
dims out of range and sizes that do not multiply up are errors naming the layer."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lab import Tensor, gradcheck, nn

shapes = hnp.array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=4)


@st.composite
def flatten_cases(draw):
    shape = draw(shapes)
    ndim = len(shape)
    start = draw(st.integers(0, ndim - 1))
    end = draw(st.integers(start, ndim - 1))
    # either way of naming each axis: from the start or (negative) from the end
    start_dim = start - ndim if draw(st.booleans()) else start
    end_dim = end - ndim if draw(st.booleans()) else end
    return shape, start, end, start_dim, end_dim


@given(case=flatten_cases(), seed=st.integers(0, 2**32 - 1))
def test_flatten_joins_the_axes_from_start_to_end_dim_both_included(case, seed):
    shape, start, end, start_dim, end_dim = case
    x = Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)
    out = nn.Flatten(start_dim, end_dim)(x)
    joined = int(np.prod(shape[start : end + 1]))
    expected = shape[:start] + (joined,) + shape[end + 1 :]
    np.testing.assert_array_equal(out.data, x.data.reshape(expected))
    gradcheck(nn.Flatten(start_dim, end_dim), [x])
    back = nn.Unflatten(start, shape[start : end + 1])(out)  # the inverse
    np.testing.assert_array_equal(back.data, x.data)


def test_flatten_defaults_keep_the_batch_axis_and_a_0d_input_becomes_1d():
    x = np.ones((2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(np.array(5.0)).shape == (1,)  # as torch.flatten of a 0-d tensor


@pytest.mark.parametrize(
    ("layer", "shape", "error", "message"),
    [
        (nn.Flatten(), (4,), IndexError, r"Flatten: dim 1 is out of range for a 1-d input"),
        (nn.Flatten(2, 1), (2, 3, 4), ValueError, "start_dim 2 comes after end_dim 1"),
        (nn.Flatten(0, 5), (2, 3), IndexError, r"dim 5 is out of range.*\(expected -2 to 1\)"),
        (nn.Unflatten(1, (4, -1)), (3, 6), ValueError, r"sizes \(4, -1\) do not multiply up"),
        (nn.Unflatten(1, (2, 2)), (3, 6), ValueError, r"do not multiply up to the size 6"),
        (nn.Unflatten(2, (2, 3)), (3, 6), IndexError, "Unflatten: dim 2 is out of range"),
    ],
)
def test_bad_dims_and_sizes_are_errors_naming_the_layer(layer, shape, error, message):
    with pytest.raises(error, match=message):
        layer(np.ones(shape))


@given(shape=shapes, seed=st.integers(0, 2**32 - 1), data=st.data())
def test_unflatten_splits_one_axis_with_at_most_one_inferred_size(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    first = data.draw(st.sampled_from(divisors))
    sizes = data.draw(st.sampled_from([(first, n // first), (first, -1), (-1, n // first)]))
    x = Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)
    out = nn.Unflatten(axis, sizes)(x)
    position = axis % len(shape)
    expected = shape[:position] + (first, n // first) + shape[position + 1 :]
    np.testing.assert_array_equal(out.data, x.data.reshape(expected))
    gradcheck(nn.Unflatten(axis, sizes), [x])


def test_unflatten_refuses_bad_sizes_when_made():
    with pytest.raises(ValueError, match="at most one -1"):
        nn.Unflatten(1, (-1, -1))
    with pytest.raises(TypeError, match="a non-empty tuple or list of ints"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="Unflatten: expected an int"):
        nn.Unflatten(1, (2.5, 2))


def test_identity_accepts_and_ignores_arguments_as_pytorch():
    layer = nn.Identity(54, unused_argument=0.1)
    x = Tensor(np.ones(3))
    assert layer(x) is x
    assert list(layer.parameters()) == []
    assert isinstance(layer(np.ones(2)), Tensor)  # an array becomes a Tensor (PyTorch: as is)
