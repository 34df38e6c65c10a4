"""The element-wise math of ops/math.py: forward equals NumPy and backward equals central finite
differences (float64), over random shapes, broadcasting and values in each op's domain; then
the edges (log1p near -1, atan2 on the axes and at the origin, ties of maximum/minimum) and the
errors outside a domain."""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import central_differences, check, draw_values

from tinygrad_lab import Tensor, autograd

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4
)

UNARY = {  # name: (Tensor function, NumPy reference, value domain)
    "sin": (Tensor.sin, np.sin, "any"),
    "cos": (Tensor.cos, np.cos, "any"),
    "tan": (Tensor.tan, np.tan, "tan"),
    "asin": (Tensor.asin, np.arcsin, "unit"),
    "acos": (Tensor.acos, np.arccos, "unit"),
    "atan": (Tensor.atan, np.arctan, "any"),
    "arcsin": (Tensor.arcsin, np.arcsin, "unit"),
    "arccos": (Tensor.arccos, np.arccos, "unit"),
    "arctan": (Tensor.arctan, np.arctan, "any"),
    "sinh": (Tensor.sinh, np.sinh, "any"),
    "cosh": (Tensor.cosh, np.cosh, "any"),
    "log2": (Tensor.log2, np.log2, "positive"),
    "log10": (Tensor.log10, np.log10, "positive"),
    "log1p": (Tensor.log1p, np.log1p, "above -1"),
    "exp2": (Tensor.exp2, np.exp2, "any"),
    "expm1": (Tensor.expm1, np.expm1, "any"),
    "square": (Tensor.square, np.square, "any"),
    "reciprocal": (Tensor.reciprocal, np.reciprocal, "nonzero"),
    "sign": (Tensor.sign, np.sign, "nonzero"),
}


@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=seeds)
def test_unary_math_matches_numpy_and_finite_differences(name, shape, seed):
    fn, ref, domain = UNARY[name]
    check(fn, ref, draw_values(np.random.default_rng(seed), shape, domain), seed=seed)


@pytest.mark.parametrize("name", UNARY)
def test_unary_math_keeps_float32_in_forward_and_backward(name):
    fn, _, domain = UNARY[name]
    x = Tensor(draw_values(np.random.default_rng(0), (2, 3), domain).astype(np.float32), True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


BINARY = {  # name: (Tensor function, NumPy reference, domain of each operand)
    "maximum": (Tensor.maximum, np.maximum, "nonzero", "small"),  # never within 0.1: no tie
    "minimum": (Tensor.minimum, np.minimum, "nonzero", "small"),
    "logaddexp": (Tensor.logaddexp, np.logaddexp, "any", "any"),
    "logaddexp2": (Tensor.logaddexp2, np.logaddexp2, "any", "any"),
    "hypot": (Tensor.hypot, np.hypot, "nonzero", "any"),  # away from the origin's kink
    "atan2": (Tensor.atan2, np.arctan2, "nonzero", "any"),  # y away from the cut y = 0, x < 0
    "arctan2": (Tensor.arctan2, np.arctan2, "nonzero", "any"),
}


@pytest.mark.parametrize("swap", [False, True], ids=["x op y", "y op x"])
@pytest.mark.parametrize("name", BINARY)
@given(pair=broadcast_pairs, seed=seeds)
def test_binary_math_broadcasts_and_matches_finite_differences(name, swap, pair, seed):
    fn, ref, left_domain, right_domain = BINARY[name]
    rng = np.random.default_rng(seed)
    left = draw_values(rng, pair.input_shapes[0], left_domain)
    right = draw_values(rng, pair.input_shapes[1], right_domain)
    if swap and name not in ("atan2", "arctan2"):  # the larger operand on either side
        left, right = right, left
    check(fn, ref, left, right, seed=seed)


@pytest.mark.parametrize("name", ["maximum", "minimum", "logaddexp", "hypot", "atan2"])
def test_binary_math_takes_numbers_and_arrays_as_constants(name):
    fn, ref, domain, _ = BINARY[name]
    x = draw_values(np.random.default_rng(1), (2, 3), domain)
    other = draw_values(np.random.default_rng(2), (3,), "small")
    check(lambda t: fn(t, other), lambda a: ref(a, other), x)
    check(lambda t: fn(t, 0.25), lambda a: ref(a, 0.25), x)


def test_unary_plus_is_the_tensor_itself():
    x = Tensor([1.0, -2.0], requires_grad=True)
    assert +x is x


def test_sign_has_zero_gradient_everywhere_including_at_zero():
    x = Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    out = x.sign()
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out.data, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


# ------------------------------------------------------------------------- edges
def test_log1p_near_minus_one_matches_finite_differences():
    x = -1 + np.array([1e-3, 1e-2, 0.1, 0.5])
    check(Tensor.log1p, np.log1p, x)
    t = Tensor(x, requires_grad=True)
    t.log1p().sum().backward()
    np.testing.assert_allclose(t.grad, 1 / (1 + x), rtol=1e-12)  # 1000 at 0.001 above -1


def test_log1p_of_tiny_inputs_keeps_their_precision():
    x = Tensor([1e-20, -1e-20], requires_grad=True)
    out = x.log1p()
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [1e-20, -1e-20])  # log(1 + x) would give 0
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_expm1_gradient_of_very_negative_inputs_is_the_tiny_exponential():
    x = Tensor([-40.0], requires_grad=True)
    x.expm1().sum().backward()
    np.testing.assert_allclose(x.grad, np.exp([-40.0]), rtol=1e-15)  # not out + 1 = 0


ON_THE_AXES = {  # (y, x) points where atan2 is smooth: the positive x-axis and the y-axis
    "positive x-axis": ([0.0, 0.0], [1.0, 0.3]),
    "y-axis": ([1.5, -0.7], [0.0, 0.0]),
}


@pytest.mark.parametrize("where", ON_THE_AXES)
def test_atan2_on_the_axes_matches_finite_differences(where):
    y, x = (np.array(v) for v in ON_THE_AXES[where])
    check(Tensor.atan2, np.arctan2, y, x)


def test_atan2_on_the_negative_x_axis_has_the_one_sided_derivative_from_above():
    """On the cut (y = 0, x < 0) atan2 jumps from π to -π: the y-gradient is the limit x/r² =
    1/x, the slope seen from y ≥ 0 (as in PyTorch); the x-gradient is 0."""
    y, x = Tensor([0.0, 0.0], requires_grad=True), Tensor([-1.0, -2.5], requires_grad=True)
    out = y.atan2(x)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [np.pi, np.pi])
    h = 1e-7
    one_sided = (np.arctan2(h, x.data) - np.arctan2(0.0, x.data)) / h
    np.testing.assert_allclose(y.grad, one_sided, rtol=1e-6)
    np.testing.assert_array_equal(y.grad, 1 / x.data)
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_atan2_at_the_origin_has_zero_gradient_not_nan():
    y, x = Tensor([0.0], requires_grad=True), Tensor([0.0], requires_grad=True)
    with np.errstate(all="raise"):
        out = y.atan2(x)
        out.sum().backward()
    assert out.data[0] == 0.0 and y.grad[0] == 0.0 and x.grad[0] == 0.0


@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_atan2_and_hypot_at_the_origin_have_zero_first_and_second_derivatives_not_nan(name):
    y, x = Tensor([0.0], requires_grad=True), Tensor([0.0], requires_grad=True)
    with np.errstate(all="raise"):
        dy, dx = autograd.grad(getattr(y, name)(x), [y, x], create_graph=True)
        assert dy.item() == 0.0 and dx.item() == 0.0
        second = autograd.grad(dy + dx, [y, x], allow_unused=True)
    assert all(g is None or g.item() == 0.0 for g in second)


def test_hypot_of_tiny_and_huge_points_has_the_exact_value_and_gradient():
    for scale in (1e-200, 1e200):  # x² + y² would underflow or overflow
        x, y = Tensor([3.0 * scale], requires_grad=True), Tensor([4.0 * scale], True)
        out = x.hypot(y)
        out.sum().backward()
        np.testing.assert_allclose(out.data, [5.0 * scale], rtol=1e-15)
        np.testing.assert_allclose(x.grad, [0.6], rtol=1e-15)
        np.testing.assert_allclose(y.grad, [0.8], rtol=1e-15)


def test_atan2_of_tiny_and_huge_points_has_the_exact_gradient():
    for scale in (1e-200, 1e200):  # x² + y² would underflow or overflow
        y, x = Tensor([3.0 * scale], requires_grad=True), Tensor([4.0 * scale], True)
        y.atan2(x).sum().backward()
        np.testing.assert_allclose(y.grad, [4 / 25 / scale], rtol=1e-14)
        np.testing.assert_allclose(x.grad, [-3 / 25 / scale], rtol=1e-14)


@pytest.mark.parametrize(("name", "ahead"), [("maximum", operator.gt), ("minimum", operator.lt)])
@given(shape=shapes, seed=seeds)
def test_maximum_and_minimum_share_the_gradient_of_a_tie_equally(name, ahead, shape, seed):
    rng = np.random.default_rng(seed)
    x, y = (rng.integers(-1, 2, shape).astype(np.float64) for _ in range(2))  # ties are common
    weights = rng.standard_normal(shape)
    a, b = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    getattr(a, name)(b).backward(weights)
    np.testing.assert_array_equal(a.grad, weights * (ahead(x, y) + 0.5 * (x == y)))
    np.testing.assert_array_equal(b.grad, weights * (ahead(y, x) + 0.5 * (x == y)))
    np.testing.assert_array_equal(a.grad + b.grad, weights)  # the whole gradient, once


@pytest.mark.parametrize(("name", "ahead"), [("maximum", operator.gt), ("minimum", operator.lt)])
@given(shape=shapes, seed=seeds)
def test_maximum_and_minimum_have_zero_second_derivative_also_at_ties(name, ahead, shape, seed):
    rng = np.random.default_rng(seed)
    x, y = (rng.integers(-1, 2, shape).astype(np.float64) for _ in range(2))  # ties are common
    weights, u = rng.standard_normal(shape), rng.standard_normal(shape)
    a, b, w = (Tensor(v, requires_grad=True) for v in (x, y, weights))
    da, db = autograd.grad(getattr(a, name)(b), [a, b], w, create_graph=True)
    np.testing.assert_array_equal(da.data, weights * (ahead(x, y) + 0.5 * (x == y)))
    dx, dy, dw = autograd.grad((da * Tensor(u)).sum(), [a, b, w], allow_unused=True)
    assert dx is None and dy is None  # the first derivative is a constant of x and y
    np.testing.assert_array_equal(dw.data, u * (ahead(x, y) + 0.5 * (x == y)))


def test_asin_and_acos_at_plus_minus_one_have_an_infinite_slope_as_pytorch():
    for name, sign in (("asin", 1.0), ("acos", -1.0)):
        x = Tensor([-1.0, 1.0], requires_grad=True)
        with np.errstate(divide="ignore"):
            getattr(x, name)().sum().backward()
        np.testing.assert_array_equal(x.grad, [sign * np.inf, sign * np.inf])


def test_logaddexp_of_large_values_is_finite_and_its_gradient_a_softmax():
    x, y = Tensor([1000.0, -1000.0], requires_grad=True), Tensor([1000.0, 0.0], True)
    with np.errstate(over="raise", invalid="raise"):
        out = x.logaddexp(y)
        out.sum().backward()
    np.testing.assert_allclose(out.data, [1000 + np.log(2), 0.0])
    np.testing.assert_allclose(x.grad, [0.5, 0.0])
    np.testing.assert_allclose(y.grad, [0.5, 1.0])


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_at_infinities_has_the_limit_gradients_and_a_zero_second_derivative(name):
    x = Tensor([np.inf, np.inf, -np.inf, 1.0, -np.inf], requires_grad=True)
    y = Tensor([np.inf, 2.0, -np.inf, np.inf, 0.5], requires_grad=True)
    dx, dy = autograd.grad(getattr(x, name)(y), [x, y], Tensor(np.ones(5)), create_graph=True)
    np.testing.assert_array_equal(dx.data, [0.5, 1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(dy.data[:4], [0.5, 0.0, 0.0, 1.0])
    assert dy.data[4] == 1.0  # e^0.5 / e^0.5: x is -inf, so y has it all
    second = autograd.grad((dx * dx).sum() + dy.sum(), [x, y])
    for g in second:  # 0 at the infinite entries (constants there), and no NaN anywhere
        assert not np.isnan(g.data).any()
        np.testing.assert_array_equal(g.data[:4], 0.0)


def test_the_numeric_gradient_of_logaddexp2_is_two_to_the_difference():
    x, y = np.array([0.5, -1.0]), np.array([1.5, 2.0])
    numeric = central_differences(lambda a: np.sum(np.logaddexp2(a, y)), [x], 0)
    t = Tensor(x, requires_grad=True)
    t.logaddexp2(y).sum().backward()
    np.testing.assert_allclose(t.grad, numeric, rtol=1e-8)
    np.testing.assert_allclose(t.grad, 1 / (1 + 2.0 ** (y - x)), rtol=1e-14)


# ------------------------------------------------------------------------- domains
DOMAIN_ERRORS = {  # name: (the bad call, the error, what its message must say)
    "asin": (lambda: Tensor([0.5, 1.5]).asin(), ValueError, r"Asin: asin needs inputs in \[-1,"),
    "acos": (lambda: Tensor([-1.01]).acos(), ValueError, r"Acos: acos needs inputs in \[-1, 1\]"),
    "log2": (lambda: Tensor([0.0]).log2(), ValueError, r"Log2: log2 needs positive inputs"),
    "log10": (lambda: Tensor([-1.0]).log10(), ValueError, r"Log10: log10 needs positive"),
    "log1p": (lambda: Tensor([-1.0]).log1p(), ValueError, r"Log1p: log1p needs inputs > -1"),
    "one of two": (lambda: Tensor([0.0, -1.5]).log1p(), ValueError, r"Log1p: .*1 of 2 .*-1\.5"),
    "reciprocal": (
        lambda: Tensor([2.0, 0.0]).reciprocal(),
        ZeroDivisionError,
        r"Reciprocal: the input \(shape \(2,\)\) has 1 zero entries",
    ),
}


@pytest.mark.parametrize("name", DOMAIN_ERRORS)
def test_math_outside_its_domain_is_an_error_naming_the_op(name):
    call, error, message = DOMAIN_ERRORS[name]
    with pytest.raises(error, match=message):
        call()
