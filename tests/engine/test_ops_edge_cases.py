"""Edges where an op used to give a silently wrong gradient, a NaN, a crash or a warning from
inside the library: 0⁰ and infinite exponents, rows of ±inf in the softmax family, divisors
whose square under- or overflows, infinite slopes, empty and 0-d tensors, and NaN inputs. Each
is checked against a closed form, or finite differences of the limit it documents, as a
hypothesis property where the space is wide. Inside `quietly()` any warning is an error."""

import contextlib
import operator
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import draw_values

from tinygrad_lab import Tensor, autograd, stack
from tinygrad_lab.reference.formulas import FORMULAS

seeds = st.integers(0, 2**32 - 1)
broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4
)


@contextlib.contextmanager
def quietly():
    """Every warning (NumPy's RuntimeWarning above all) raised inside is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def summed_to(a: np.ndarray, shape: tuple) -> np.ndarray:
    """``a`` summed over the axes broadcasting added or stretched (independent of the engine)."""
    while a.ndim > len(shape):
        a = a.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and a.shape[i] != 1:
            a = a.sum(axis=i, keepdims=True)
    return a


def grads_of(fn, *arrays: np.ndarray, weights=None):
    """``fn`` on Tensors of ``arrays`` (quietly), its output, and each input's gradient of
    Σ weights · out."""
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    with quietly():
        out = fn(*tensors)
        out.backward(np.ones(out.shape) if weights is None else weights)
    return (out.data, *(t.grad for t in tensors))


# ------------------------------------------------------------------------- x ** y at 0⁰
@given(pair=broadcast_pairs, seed=seeds)
def test_tensor_exponent_gives_x_the_gradient_0_where_y_is_0_also_at_0_to_the_0(pair, seed):
    rng = np.random.default_rng(seed)
    x_shape, y_shape = pair.input_shapes
    x = rng.choice([0.0, 0.5, 1.0, 2.0], x_shape)  # zeros are common
    y = rng.choice([0.0, 1.0, 1.5, 2.0, 3.0], y_shape)  # so are zero exponents
    weights = rng.standard_normal(pair.result_shape)
    xt = Tensor(x, requires_grad=True)
    with quietly():
        (xt ** Tensor(y)).backward(weights)
    with np.errstate(divide="ignore", invalid="ignore"):  # (the branch np.where drops)
        slope = np.where(y == 0, 0.0, y * x ** (y - 1))  # y x^(y-1); 0 where x⁰ = 1 (PyTorch)
    np.testing.assert_allclose(xt.grad, summed_to(weights * slope, x_shape), rtol=1e-12)


def test_tensor_exponent_at_0_to_the_0_is_pytorchs_and_our_number_exponents():
    exponent = Tensor([0.0, 1.0, 0.0])
    _, dx = grads_of(lambda t: t**exponent, np.array([0.0, 0.0, 2.0]))
    np.testing.assert_array_equal(dx, [0.0, 1.0, 0.0])  # torch: [0, 1, 0]
    _, by_number = grads_of(lambda t: t**0, np.array([0.0, 0.0, 2.0]))
    _, by_tensor = grads_of(lambda t: t ** Tensor(np.zeros(3)), np.array([0.0, 0.0, 2.0]))
    np.testing.assert_array_equal(by_tensor, by_number)


# ------------------------------------------------------------------------- rows of ±inf
STAND_IN = 800.0  # ±inf as ±800: e^(-800 + 3) is 0 in float64, so the limit is reached exactly
STEP = 1e-4  # central differences: rounding of values near 800 stays far below the tolerance


def differences(loss, a: np.ndarray) -> np.ndarray:
    """d loss / d a by central differences, one entry at a time."""
    grad = np.zeros_like(a)
    for index in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[index] += STEP
        down[index] -= STEP
        grad[index] = (loss(up) - loss(down)) / (2 * STEP)
    return grad


def _lse(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True)), axis)


def _log_softmax(a, axis):
    return a - np.expand_dims(_lse(a, axis), axis)


REFERENCES = {  # name: (the finite reference; a row of -inf: its value, its gradient / weight)
    "logsumexp": (_lse, -np.inf, 0.0),
    "softmax": (lambda a, axis: np.exp(_log_softmax(a, axis)), 0.0, 0.0),
    "log_softmax": (_log_softmax, -np.inf, 1.0),
}


@st.composite
def rows_with_infinities(draw):
    """Finite values, single ±inf entries, and whole rows (groups along ``axis``) of -inf."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.integers(0, len(shape) - 1))
    rng = np.random.default_rng(draw(seeds))
    x = rng.choice([-np.inf, np.inf, 0.0, 0.0, 0.0], shape) + rng.uniform(-3, 3, shape)
    masked_rows = rng.random(shape[:axis] + (1,) + shape[axis + 1 :]) < 0.3
    return np.where(masked_rows, -np.inf, x), axis, rng.standard_normal(shape)


@pytest.mark.parametrize("name", REFERENCES)
@given(case=rows_with_infinities())
def test_softmax_family_of_rows_with_infinities_is_the_documented_limit(name, case):
    x, axis, weights = case
    reference, masked_value, masked_slope = REFERENCES[name]
    masked = np.all(x == -np.inf, axis=axis, keepdims=True)
    finite = np.clip(x, -STAND_IN, STAND_IN)  # the limit, where a row is not all -inf
    limit = reference(finite, axis)  # where it is about ±800, the limit is ±inf
    expected = np.where(limit > STAND_IN / 2, np.inf, limit)
    expected = np.where(limit < -STAND_IN / 2, -np.inf, expected)
    masked_out = np.squeeze(masked, axis) if name == "logsumexp" else masked
    if name == "logsumexp":
        weights = weights.sum(axis=axis)
    out, grad = grads_of(lambda t: getattr(t, name)(axis=axis), x, weights=weights)
    np.testing.assert_allclose(out, np.where(masked_out, masked_value, expected), rtol=1e-12)
    numeric = differences(lambda a: np.sum(weights * reference(a, axis)), finite)
    expanded = np.expand_dims(weights, axis) if name == "logsumexp" else weights
    expected_grad = np.where(masked, masked_slope * expanded, numeric)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    ("row", "value", "grad"),
    [
        ([-np.inf, -np.inf], -np.inf, [0.0, 0.0]),  # a fully masked row
        ([np.inf, 1.0], np.inf, [1.0, 0.0]),
        ([np.inf, np.inf], np.inf, [0.5, 0.5]),
        ([np.inf, -np.inf], np.inf, [1.0, 0.0]),
        ([-np.inf, 1.0], 1.0, [0.0, 1.0]),
    ],
)
def test_logsumexp_and_logaddexp_of_infinities_as_numpy_with_limit_gradients(row, value, grad):
    out, dx = grads_of(lambda t: t.logsumexp(axis=0), np.array(row))
    assert out == value == np.logaddexp.reduce(row)
    np.testing.assert_array_equal(dx, grad)
    for name in ("logaddexp", "logaddexp2"):
        out, da, db = grads_of(getattr(Tensor, name), np.array(row[:1]), np.array(row[1:]))
        assert out[0] == value
        np.testing.assert_array_equal(np.concatenate([da, db]), grad)


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
@given(pair=broadcast_pairs, seed=seeds)
def test_logaddexp_is_the_logsumexp_of_the_pair_also_at_infinities(name, pair, seed):
    rng = np.random.default_rng(seed)
    x, y = (
        rng.choice([-np.inf, np.inf, 0.0, 0.0], s) + rng.uniform(-3, 3, s)
        for s in pair.input_shapes
    )
    weights = rng.standard_normal(pair.result_shape)
    scale = 1.0 if name == "logaddexp" else np.log(2.0)  # log₂(2ˣ + 2ʸ) = lse(x ln 2, y ln 2)/ln 2

    def as_logsumexp(a, b):
        a, b = a + np.zeros(pair.result_shape), b + np.zeros(pair.result_shape)
        return (stack([a, b]) * scale).logsumexp(axis=0) / scale

    ours = grads_of(getattr(Tensor, name), x, y, weights=weights)
    expected = grads_of(as_logsumexp, x, y, weights=weights)
    for got, want in zip(ours, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


# ------------------------------------------------------------------------- Div's divisor
@st.composite
def quotients(draw, limit: int):
    """x = m₁·10^e₁ and y = m₂·10^e₂ with every one of x, y, x/y and x/y² a normal number of
    the dtype whose exponents reach about ±``limit``, while y² itself may not be."""
    e2 = draw(st.integers(1 - limit, limit - 1))
    e1 = draw(st.integers(max(-limit, 2 * e2 - limit + 2), min(limit, 2 * e2 + limit - 2)))
    m1, m2 = draw(st.floats(1, 9.99)), draw(st.floats(1, 9.99))
    return m1 * 10.0**e1 * draw(st.sampled_from([1, -1])), m2 * 10.0**e2


@pytest.mark.parametrize(
    ("dtype", "limit", "rtol"), [(np.float64, 300, 1e-15), (np.float32, 36, 3e-7)]
)
@given(data=st.data())
def test_gradient_of_a_divisor_is_exact_where_its_square_underflows_or_overflows(
    dtype, limit, rtol, data
):
    x, y = (dtype(v) for v in data.draw(quotients(limit)))
    exact = -Fraction(float(x)) / Fraction(float(y)) ** 2  # d(x/y)/dy = -x/y²
    _, dx, dy = grads_of(operator.truediv, np.array([x]), np.array([y]))
    assert dy.dtype == dtype
    np.testing.assert_allclose(dy, [float(exact)], rtol=rtol, atol=0)
    np.testing.assert_allclose(dx, [float(1 / Fraction(float(y)))], rtol=rtol, atol=0)


@pytest.mark.parametrize(
    ("x", "y", "dy"),
    [
        (np.float32(1e-23), np.float32(1e-23), np.float32(-1e23)),  # was -inf (y² is 0)
        (0.0, 1e-170, 0.0),  # was NaN (0 / 0)
        (1e200, 1e200, -1e-200),  # was -0.0 (y² is inf)
    ],
)
def test_the_issues_divisors_have_their_exact_gradient(x, y, dy):
    _, _, got = grads_of(operator.truediv, np.array([x]), np.array([y]))
    np.testing.assert_array_equal(got, [dy])


# ------------------------------------------------------------------------- infinite exponents
@pytest.mark.parametrize("p", [np.inf, -np.inf])
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4), seed=seeds)
def test_infinite_exponents_have_ieees_values_and_the_limit_of_p_x_to_the_p_minus_1(p, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], shape) * rng.uniform(0.5, 1.5, shape)
    x = np.where(rng.random(shape) < 0.3, np.sign(x), x)  # ±1, where the slope does not vanish
    if p > 0:
        x = np.where(rng.random(shape) < 0.2, 0.0, x)  # (0 ** -inf divides by zero)
    weights = rng.uniform(0.5, 2.0, shape)  # positive: the sign of an infinite gradient is p's
    out, grad = grads_of(lambda t: t**p, x, weights=weights)
    np.testing.assert_array_equal(out, np.power(x, p))  # as NumPy (and PyTorch)
    # p x^(p-1) tends to 0 where x^p vanishes (|x| < 1 for inf, |x| > 1 for -inf; PyTorch:
    # NaN), and is ±inf elsewhere (|x| = 1 included), as in PyTorch
    vanishes = np.abs(x) < 1 if p > 0 else np.abs(x) > 1
    np.testing.assert_array_equal(grad, np.where(vanishes, 0.0, p * weights))


def test_nan_exponent_gives_nan_and_zero_to_minus_inf_divides_by_zero():
    out, grad = grads_of(lambda t: t ** float("nan"), np.array([0.0, 0.5, 1.0, -2.0]))
    np.testing.assert_array_equal(out, [np.nan, np.nan, 1.0, np.nan])  # 1 ** nan = 1, as NumPy
    assert np.isnan(grad).all()  # the NaN exponent was given: NaN in, NaN out
    with pytest.raises(ZeroDivisionError, match=r"Pow: x \*\* -inf divides by x"):
        _ = Tensor([0.0, 1.0]) ** float("-inf")


# ------------------------------------------------------------------------- infinite slopes
EDGES = {  # name: (op, the point where its slope is infinite, the sign of the slope there)
    "sqrt at 0": (Tensor.sqrt, 0.0, 1),
    "x ** 0.5 at 0": (lambda t: t**0.5, 0.0, 1),
    "x ** 0.25 at 0": (lambda t: t**0.25, 0.0, 1),
    "x ** tensor 0.5 at 0": (lambda t: t ** Tensor([0.5]), 0.0, 1),
    "asin at 1": (Tensor.asin, 1.0, 1),
    "asin at -1": (Tensor.asin, -1.0, 1),
    "acos at 1": (Tensor.acos, 1.0, -1),
    "acos at -1": (Tensor.acos, -1.0, -1),
}


@pytest.mark.parametrize("name", EDGES)
def test_infinite_slope_gives_inf_quietly_and_0_where_no_gradient_arrives(name):
    op, point, sign = EDGES[name]
    out, grad = grads_of(op, np.full(3, point), weights=np.array([2.0, -1.0, 0.0]))
    np.testing.assert_array_equal(grad, [sign * np.inf, -sign * np.inf, 0.0])  # 0 · inf is 0


POWERS_AT_0 = {  # name: (op, the op named in the error): exponents below 1, at x = 0
    "sqrt": (Tensor.sqrt, "Sqrt"),
    "x ** 0.25": (lambda t: t**0.25, "Pow"),
    "x ** tensor 0.5": (lambda t: t ** Tensor([0.5]), "TensorPow"),
    "x ** tensor 0 (slope 0, but x^-1 in its derivative)": (
        lambda t: t ** Tensor([0.0]),
        "TensorPow",
    ),
}


@pytest.mark.parametrize("name", POWERS_AT_0)
@given(at=st.integers(0, 2), size=st.integers(3, 5))
def test_a_recorded_backward_of_a_power_below_1_at_0_is_an_error_naming_the_op(name, at, size):
    op, owner = POWERS_AT_0[name]
    x = Tensor(np.where(np.arange(size) == at, 0.0, 1.5), requires_grad=True)
    v = Tensor(np.ones(size), requires_grad=True)
    with pytest.raises(ZeroDivisionError, match=rf"^{owner}: a backward with create_graph=True"):
        autograd.grad(op(x), x, v, create_graph=True)


# ------------------------------------------------------------------------- empty and 0-d
@pytest.mark.parametrize("name", ["mean", "var", "std"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3), data=st.data())
def test_mean_var_std_of_empty_tensors_are_empty_unless_a_group_is_empty(name, shape, data):
    empty = data.draw(st.integers(0, len(shape) - 1))
    shape = tuple(0 if i == empty else n for i, n in enumerate(shape))  # an empty tensor
    axis = data.draw(st.none() | hnp.valid_tuple_axes(len(shape), min_size=1))
    axes = range(len(shape)) if axis is None else axis
    x = np.zeros(shape)
    kwargs = {"correction": 0} if name in ("var", "std") else {}  # groups of one entry too
    if any(shape[a] == 0 for a in axes):  # a mean of nothing: the README's rule, one for all
        with pytest.raises(ValueError, match=r"the mean of nothing .* groups of 0 entries"):
            getattr(Tensor(x), name)(axis=axis, **kwargs)
        return
    out, grad = grads_of(lambda t: getattr(t, name)(axis=axis, **kwargs), x)
    expected = getattr(np, name)(x, axis=axis)
    assert out.shape == expected.shape and out.size == 0 and grad.shape == shape
    slope = 1 / np.prod([shape[a] for a in axes]) if name == "mean" else 0.0  # (x is 0)
    np.testing.assert_array_equal(grad, np.full(shape, slope))


@pytest.mark.parametrize("name", ["mean", "var", "std", "max", "min"])
def test_a_reduction_over_an_empty_axis_is_an_error_even_with_no_groups(name):
    with pytest.raises(ValueError, match="mean of nothing|cannot reduce an empty axis"):
        getattr(Tensor(np.zeros((0, 0))), name)(axis=0)  # PyTorch: an empty mean, a max error


def test_an_empty_list_index_gives_an_empty_tensor_as_numpy():
    for shape in [(3,), (2, 3)]:
        out, grad = grads_of(lambda t: t[[]], np.ones(shape))
        assert out.shape == np.ones(shape)[[]].shape
        np.testing.assert_array_equal(grad, np.zeros(shape))


ZERO_D = {  # name: (value, gradient) at x = 3 over axis 0 or -1 (reducing nothing), PyTorch's
    "sum": (3.0, 1.0),
    "mean": (3.0, 1.0),
    "amax": (3.0, 1.0),
    "amin": (3.0, 1.0),
    "prod": (3.0, 1.0),
    "logsumexp": (3.0, 1.0),
    "cumsum": (3.0, 1.0),
    "cumprod": (3.0, 1.0),
    "softmax": (1.0, 0.0),
    "log_softmax": (0.0, 0.0),
    "var": (0.0, 0.0),
    "std": (0.0, 0.0),
}


@pytest.mark.parametrize("name", ZERO_D)
@pytest.mark.parametrize("axis", [0, -1])
def test_a_0d_tensor_takes_axis_0_and_minus_1_as_in_pytorch(name, axis):
    value, slope = ZERO_D[name]
    kwargs = {"correction": 0} if name in ("var", "std") else {}  # one entry: no n - 1
    out, grad = grads_of(lambda t: getattr(t, name)(axis=axis, **kwargs), np.array(3.0))
    assert np.shape(out) == () and np.shape(grad) == ()
    assert out == value and grad == slope
    with pytest.raises(ValueError, match="axis 1 is out of range for a tensor of 0 dimensions"):
        getattr(Tensor(3.0), name)(axis=1)


def test_logsumexp_and_argmax_of_a_0d_tensor():
    out, grad = grads_of(Tensor.logsumexp, np.array(3.0))  # its default axis is -1
    assert out == 3.0 and grad == 1.0
    assert Tensor(3.0).argmax(axis=0).item() == 0.0


# ------------------------------------------------------------------------- NaN in, NaN out
UNARY = {  # name: (op, the domain its values are drawn from)
    **{n: (getattr(Tensor, n), "any") for n in ("exp", "abs", "relu", "sigmoid", "tanh", "neg")},
    **{n: (getattr(Tensor, n), "any") for n in ("softplus", "gelu", "silu", "elu", "mish")},
    **{n: (getattr(Tensor, n), "any") for n in ("relu6", "hardswish", "leaky_relu", "sign")},
    **{n: (getattr(Tensor, n), "any") for n in ("sin", "cos", "atan", "sinh", "cosh", "exp2")},
    **{n: (getattr(Tensor, n), "any") for n in ("expm1", "square")},
    **{n: (getattr(Tensor, n), "positive") for n in ("log", "sqrt", "log2", "log10")},
    **{n: (getattr(Tensor, n), "unit") for n in ("asin", "acos")},
    "tan": (Tensor.tan, "tan"),
    "log1p": (Tensor.log1p, "above -1"),
    "reciprocal": (Tensor.reciprocal, "nonzero"),
    "clip": (lambda t: t.clip(-1.0, 1.0), "any"),
    "x ** 0.5": (lambda t: t**0.5, "positive"),
    "x ** -1": (lambda t: t**-1, "nonzero"),
    "x ** tensor": (lambda t: t ** Tensor(1.5), "positive"),
}
BINARY = {  # name: (op, the domain of the second input)
    **{n: (getattr(operator, n), "any") for n in ("add", "sub", "mul", "pow")},
    **{n: (getattr(Tensor, n), "any") for n in ("maximum", "minimum", "atan2")},
    **{n: (getattr(Tensor, n), "any") for n in ("logaddexp", "logaddexp2")},
    "div": (operator.truediv, "nonzero"),
}


def with_nans(rng, shape, domain):
    """Values of ``domain`` with NaN at random places (none at all, now and then)."""
    clean = draw_values(rng, shape, "positive" if domain == "pow" else domain)
    return clean, np.where(rng.random(shape) < 0.3, np.nan, clean)


@pytest.mark.parametrize("name", UNARY)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4), seed=seeds)
def test_nan_in_gives_nan_out_and_leaves_every_other_entry_alone(name, shape, seed):
    op, domain = UNARY[name]
    rng = np.random.default_rng(seed)
    clean, x = with_nans(rng, shape, domain)
    weights = rng.standard_normal(shape)
    out, grad = grads_of(op, x, weights=weights)  # no error, no warning: the NaN was given
    clean_out, clean_grad = grads_of(op, clean, weights=weights)
    nan = np.isnan(x)
    np.testing.assert_array_equal(np.isnan(out), nan)
    np.testing.assert_array_equal(out[~nan], clean_out[~nan])
    np.testing.assert_array_equal(grad[~nan], clean_grad[~nan])


@pytest.mark.parametrize("name", BINARY)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4), seed=seeds)
def test_nan_in_either_input_of_a_binary_op_gives_nan_there_only(name, shape, seed):
    op, domain = BINARY[name]
    rng = np.random.default_rng(seed)
    (clean_x, x), (clean_y, y) = (
        with_nans(rng, shape, "pow" if name == "pow" else "any"),
        (with_nans(rng, shape, domain)),
    )
    weights = rng.standard_normal(shape)
    out, dx, dy = grads_of(op, x, y, weights=weights)
    clean = grads_of(op, clean_x, clean_y, weights=weights)
    nan = np.isnan(x) | np.isnan(y)
    np.testing.assert_array_equal(np.isnan(out), nan)
    for got, want in zip((out, dx, dy), clean, strict=True):
        np.testing.assert_array_equal(got[~nan], want[~nan])


REDUCTIONS = ["sum", "mean", "amax", "amin", "prod", "var", "std", "logsumexp"]
REDUCTIONS += ["softmax", "log_softmax", "cumsum", "cumprod"]


@pytest.mark.parametrize("name", REDUCTIONS)
@given(shape=hnp.array_shapes(min_dims=2, max_dims=2, max_side=4), seed=seeds)
def test_nan_in_a_row_gives_nan_in_that_row_only(name, shape, seed):
    rng = np.random.default_rng(seed)
    clean, x = with_nans(rng, shape, "any")
    kwargs = {"correction": 0} if name in ("var", "std") else {}  # rows of one entry too
    fn = lambda t: getattr(t, name)(axis=1, **kwargs)  # noqa: E731  (rows one by one)
    out, grad = grads_of(fn, x)
    clean_out, clean_grad = grads_of(fn, clean)
    rows = np.isnan(x).any(axis=1)
    assert np.isnan(out[rows]).any(axis=-1).all() if out.ndim == 2 else np.isnan(out[rows]).all()
    np.testing.assert_array_equal(out[~rows], clean_out[~rows])
    np.testing.assert_array_equal(grad[~rows], clean_grad[~rows])


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_nan_is_the_extreme_of_its_group_and_its_nans_share_the_gradient(name):
    out, grad = grads_of(lambda t: getattr(t, name)(axis=1), np.array([[np.nan, 1.0, np.nan]]))
    assert np.isnan(out).all()  # as NumPy's max and min
    np.testing.assert_array_equal(grad, [[0.5, 0.0, 0.5]])  # as PyTorch's


# ------------------------------------------------------------------------- overflow, quietly
OVERFLOWS = {  # name: (op, NumPy's function, its derivative)
    "exp": (Tensor.exp, np.exp, np.exp),
    "exp2": (Tensor.exp2, np.exp2, lambda x: np.exp2(x) * np.log(2)),
    "expm1": (Tensor.expm1, np.expm1, np.exp),
    "sinh": (Tensor.sinh, np.sinh, np.cosh),
    "cosh": (Tensor.cosh, np.cosh, np.sinh),
}


@pytest.mark.parametrize("name", OVERFLOWS)
def test_overflow_to_infinity_is_numpys_value_without_a_warning_from_the_library(name):
    op, function, derivative = OVERFLOWS[name]
    x = np.array([-2000.0, -1.0, 2.0, 2000.0])
    out, grad = grads_of(op, x)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out, function(x))
        np.testing.assert_allclose(grad, derivative(x), rtol=1e-15)
    assert np.isinf(out[-1]) and np.isinf(grad[-1])


# ------------------------------------------------------------------------- hardswish's kinks
def test_hardswish_slopes_at_its_kinks_are_pytorchs_and_the_references():
    x = np.array([-3.0, 3.0, -3.5, -1.0, 2.5, 3.5])
    _, grad = grads_of(Tensor.hardswish, x)
    np.testing.assert_array_equal(grad[:2], [0.0, 1.0])  # torch 2.13: 0 at -3, 1 at 3
    oracle = FORMULAS["hardswish"][1](x)  # the matrix-form reference's derivative
    np.testing.assert_allclose(grad, oracle, rtol=1e-15, atol=0)
