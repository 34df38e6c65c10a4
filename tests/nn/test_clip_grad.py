"""nn.utils.clip_grad_norm_ and clip_grad_value_ against PyTorch's published rules written here
in NumPy: the total norm of all gradients as one vector, each scaled by
min(1, max_norm / (total + 1e-6)); each entry clamped into [-v, v]."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lab import Tensor, nn

seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4), min_size=1, max_size=4)


def with_grads(rng, shapes, scale):
    params = [nn.Parameter(rng.normal(size=shape)) for shape in shapes]
    for p in params:
        p.grad = rng.normal(size=p.shape) * scale
    return params


@given(
    shapes=shapes,
    seed=seeds,
    max_norm=st.floats(0.01, 10),
    norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]),
    scale=st.floats(0.01, 10),
)
def test_clip_grad_norm_scales_every_gradient_by_one_factor(
    shapes, seed, max_norm, norm_type, scale
):
    rng = np.random.default_rng(seed)
    params = with_grads(rng, shapes, scale)
    before = [p.grad.copy() for p in params]
    flat = np.concatenate([g.ravel() for g in before])
    total = (
        np.abs(flat).max()
        if norm_type == math.inf
        else np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    )
    returned = nn.utils.clip_grad_norm_(iter(params), max_norm, norm_type)  # any iterable
    assert isinstance(returned, Tensor) and returned.shape == ()
    np.testing.assert_allclose(returned.item(), total, rtol=1e-12)
    factor = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(params, before, strict=True):
        np.testing.assert_allclose(p.grad, g * factor, rtol=1e-12)


def test_clipping_writes_new_gradient_arrays_and_leaves_the_old_ones():
    p = nn.Parameter(np.zeros(2))
    old = p.grad = np.array([3.0, 4.0])
    nn.utils.clip_grad_norm_([p], 1.0)
    assert p.grad is not old
    np.testing.assert_array_equal(old, [3.0, 4.0])


def test_parameters_without_a_grad_are_skipped_and_one_tensor_is_taken():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    a.grad = np.array([3.0, 4.0])
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert total.item() == 5.0 and b.grad is None
    np.testing.assert_allclose(a.grad, [3 / (5 + 1e-6), 4 / (5 + 1e-6)])
    assert nn.utils.clip_grad_norm_(b, 1.0).item() == 0.0  # no gradient at all: norm 0


def test_a_non_finite_total_is_an_error_on_request_and_otherwise_touches_nothing():
    p = nn.Parameter(np.zeros(2))
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="total 2-norm of the gradients is inf"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == math.inf
    np.testing.assert_array_equal(p.grad, [np.inf, 1.0])  # (PyTorch: [nan, 0])


@given(shapes=shapes, seed=seeds, clip=st.floats(0, 2))
def test_clip_grad_value_clamps_each_entry(shapes, seed, clip):
    rng = np.random.default_rng(seed)
    params = with_grads(rng, shapes, 2.0)
    before = [p.grad.copy() for p in params]
    assert nn.utils.clip_grad_value_(params, clip) is None
    for p, g in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.grad, np.minimum(np.maximum(g, -clip), clip))


def test_float32_gradients_stay_float32():
    p = nn.Parameter(np.ones(3, np.float32), dtype=np.float32)
    p.grad = np.full(3, 10.0, np.float32)
    nn.utils.clip_grad_norm_([p], 1.0)
    nn.utils.clip_grad_value_([p], 0.1)
    assert p.grad.dtype == np.float32


def test_bad_calls_are_clear_errors():
    model = nn.Linear(2, 2, rng=0)
    with pytest.raises(TypeError, match=r"call it: model.parameters\(\)"):
        nn.utils.clip_grad_norm_(model.parameters, 1.0)
    with pytest.raises(TypeError, match=r"parameter 1 is not a Tensor \(got int\)"):
        nn.utils.clip_grad_value_([model.weight, 3], 1.0)
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        nn.utils.clip_grad_norm_(model.parameters(), -1.0)
    with pytest.raises(ValueError, match="norm_type must be positive"):
        nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type=0)
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        nn.utils.clip_grad_value_(model.parameters(), -1.0)
