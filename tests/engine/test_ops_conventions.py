"""Where finite differences say nothing: the documented gradient at kinks (relu, leaky_relu, abs
and clip at their corners, where the second derivative is 0, as PyTorch's) and ties (max/min),
and numerical stability of the softmax family and sigmoid at large inputs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lab import Tensor, autograd

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def small_integers(seed: int, shape: tuple, high: int = 2) -> np.ndarray:
    """Whole numbers in [-high, high] as float64: zeros, bounds and ties are common."""
    return np.random.default_rng(seed).integers(-high, high + 1, shape).astype(np.float64)


def grad_of(fn, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    t = Tensor(x, requires_grad=True)
    fn(t).backward(weights)
    return t.grad


# ------------------------------------------------------------------------- kinks
KINKS = {  # name: (op, the documented derivative, as a function of x)
    "relu (0 at 0, as in the notebook)": (Tensor.relu, lambda x: (x > 0) * 1.0),
    "leaky_relu (slope at 0)": (
        lambda t: t.leaky_relu(0.2),
        lambda x: np.where(x > 0, 1.0, 0.2),
    ),
    "abs (sign, so 0 at 0)": (Tensor.abs, np.sign),
    "clip (passes at the bounds)": (
        lambda t: t.clip(-1.0, 1.0),
        lambda x: ((x >= -1) & (x <= 1)) * 1.0,
    ),
}


@pytest.mark.parametrize("name", KINKS)
@given(shape=shapes, seed=seeds)
def test_gradient_at_kinks_follows_the_documented_convention(name, shape, seed):
    op, derivative = KINKS[name]
    x = small_integers(seed, shape)
    weights = np.random.default_rng(seed + 1).standard_normal(shape)
    np.testing.assert_array_equal(grad_of(op, x, weights), weights * derivative(x))


@pytest.mark.parametrize("name", KINKS)
@given(shape=shapes, seed=seeds)
def test_second_derivative_at_kinks_is_zero_and_the_first_is_the_documented_one(name, shape, seed):
    op, derivative = KINKS[name]
    x = small_integers(seed, shape)
    rng = np.random.default_rng(seed + 1)
    weights, u = rng.standard_normal(shape), rng.standard_normal(shape)
    t, w = Tensor(x, requires_grad=True), Tensor(weights, requires_grad=True)
    (first,) = autograd.grad(op(t), t, w, create_graph=True)  # w · f'(x), recorded
    np.testing.assert_array_equal(first.data, weights * derivative(x))
    dx, dw = autograd.grad((first * Tensor(u)).sum(), [t, w], allow_unused=True)
    assert dx is None or not np.any(dx.data)  # f'' = 0 (None: f' is a constant of x)
    np.testing.assert_array_equal(dw.data, u * derivative(x))


def test_relu_derivative_at_exactly_zero_is_zero():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad[1] == 0.0
    np.testing.assert_array_equal(x.grad, x.data > 0)


# ------------------------------------------------------------------------- ties
@st.composite
def shape_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    axis = draw(st.none() | st.integers(-ndim, ndim - 1) | hnp.valid_tuple_axes(ndim, min_size=1))
    return shape, axis


@pytest.mark.parametrize("name", ["amax", "amin"])
@given(shape_axis=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_max_and_min_split_the_gradient_equally_between_ties(name, shape_axis, keepdims, seed):
    shape, axis = shape_axis
    x = small_integers(seed, shape, high=1)  # three values: ties almost everywhere
    reduce = getattr(np, name)
    extreme = reduce(x, axis=axis, keepdims=True)
    weights = np.random.default_rng(seed + 1).standard_normal(extreme.shape)
    out_shape = reduce(x, axis=axis, keepdims=keepdims).shape

    grad = grad_of(
        lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x, weights.reshape(out_shape)
    )

    winners = x == extreme
    expected = winners / winners.sum(axis=axis, keepdims=True) * weights
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=0)
    # what each reduced group receives in total is exactly its upstream gradient
    np.testing.assert_allclose(grad.sum(axis=axis, keepdims=True), weights, rtol=1e-12)


def test_max_of_three_tied_entries_gives_each_a_third():
    x = Tensor([[5.0, 5.0, 1.0, 5.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [[1 / 3, 1 / 3, 0.0, 1 / 3]])


# ------------------------------------------------------------------------- stability
LARGE = 1e3


@pytest.mark.parametrize("offset", [LARGE, -LARGE])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, data=st.data())
def test_softmax_family_of_large_values_is_finite_and_shift_invariant(
    name, offset, shape, seed, data
):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).uniform(-3, 3, shape)
    weights = np.random.default_rng(seed + 1).standard_normal(shape)
    with np.errstate(over="raise", invalid="raise"):  # no overflow, not even a hidden one
        big, small = Tensor(x + offset, True), Tensor(x, True)
        big_out = getattr(big, name)(axis=axis)
        small_out = getattr(small, name)(axis=axis)
        big_out.backward(weights)
        small_out.backward(weights)
    assert np.all(np.isfinite(big_out.data)) and np.all(np.isfinite(big.grad))
    # softmax(x + c) = softmax(x): both value and gradient are those of the unshifted input
    np.testing.assert_allclose(big_out.data, small_out.data, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(big.grad, small.grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("offset", [LARGE, -LARGE])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, data=st.data())
def test_logsumexp_of_large_values_is_finite_and_shifts_by_the_offset(offset, shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).uniform(-3, 3, shape)
    with np.errstate(over="raise", invalid="raise"):
        big, small = Tensor(x + offset, True), Tensor(x, True)
        big_out, small_out = big.logsumexp(axis=axis), small.logsumexp(axis=axis)
        big_out.sum().backward()
        small_out.sum().backward()
    # logsumexp(x + c) = c + logsumexp(x); its gradient (a softmax) does not move
    np.testing.assert_allclose(big_out.data, small_out.data + offset, rtol=1e-12)
    np.testing.assert_allclose(big.grad, small.grad, rtol=1e-9, atol=1e-12)


def test_softmax_of_widely_spread_values_puts_all_mass_on_the_largest():
    x = Tensor([[LARGE, 0.0, -LARGE]], requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        out = x.softmax(axis=1)
        log_out = x.log_softmax(axis=1)
    np.testing.assert_allclose(out.data, [[1.0, 0.0, 0.0]], atol=1e-300)
    np.testing.assert_allclose(log_out.data, [[0.0, -LARGE, -2 * LARGE]])


def test_sigmoid_of_large_inputs_saturates_without_overflow():
    x = Tensor([-LARGE, LARGE], requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        out = x.sigmoid()
        out.sum().backward()
    np.testing.assert_array_equal(out.data, [0.0, 1.0])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_power_zero_has_zero_gradient_even_at_zero():
    x = Tensor([0.0, -1.5, 2.0], requires_grad=True)
    with np.errstate(all="raise"):
        (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


# ------------------------------------------------------------------------- domains
DOMAIN_ERRORS = {  # name: (the bad call, the error, what its message must say)
    "log": (lambda: Tensor([1.0, 0.0]).log(), ValueError, r"Log: .*positive.*1 of 2.*0\.0"),
    "sqrt": (lambda: Tensor([-1.0]).sqrt(), ValueError, r"Sqrt: sqrt needs inputs >= 0"),
    "fractional pow": (
        lambda: Tensor([-1.0]) ** 0.5,
        ValueError,
        r"Pow: a non-integer exponent 0.5 needs inputs >= 0",
    ),
    "tensor pow": (
        lambda: Tensor([-1.0]) ** Tensor([2.0], requires_grad=True),
        ValueError,
        r"TensorPow: a differentiable exponent needs a positive base",
    ),
    "div": (
        lambda: Tensor([1.0, 2.0]) / Tensor([0.0, 1.0]),
        ZeroDivisionError,
        r"Div: the divisor \(shape \(2,\)\) has 1 zero entries",
    ),
    "clip": (lambda: Tensor([1.0]).clip(2.0, 1.0), ValueError, r"Clip: min 2.0 .* max 1.0"),
    "getitem": (lambda: Tensor([1.0])[3], IndexError, r"GetItem: index 3 .* shape \(1,\)"),
    "sum axis": (lambda: Tensor([1.0]).sum(axis=1), ValueError, r"Sum: axis 1 is out of range"),
    "max axis": (lambda: Tensor([1.0]).amax(axis=(0, -1)), ValueError, r"Max: .* repeats"),
    "permute": (
        lambda: Tensor(np.ones((2, 3))).permute(0, 0),
        ValueError,
        r"Permute: dims \(0, 0\) are not a permutation",
    ),
}


@pytest.mark.parametrize("name", DOMAIN_ERRORS)
def test_input_outside_an_ops_domain_is_an_error_naming_the_op_and_the_problem(name):
    call, error, message = DOMAIN_ERRORS[name]
    with pytest.raises(error, match=message):
        call()
