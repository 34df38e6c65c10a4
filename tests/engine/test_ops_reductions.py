"""prod, var, std, cumsum, cumprod, argmax and argmin, and the softmax family over an empty axis:
forward equals NumPy and backward equals central finite differences (float64) over random shapes,
axes and values, zeros included where an op divides (prod and cumprod are linear in each entry,
so their differences are exact even at zeros)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import check, draw_values

from tinygrad_lab import Tensor, autograd

seeds = st.integers(0, 2**32 - 1)


@st.composite
def shape_and_axis(draw, min_dims=0):
    """A shape and an axis argument for it: None, an int or a tuple, negatives included."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    choices = [st.none()]
    if ndim:
        choices += [st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim, min_size=1)]
    return shape, draw(st.one_of(choices))


def with_zeros(seed: int, shape: tuple) -> np.ndarray:
    """Random values of which about a third are exactly 0 (and some groups have several)."""
    rng = np.random.default_rng(seed)
    values = draw_values(rng, shape)
    values[rng.random(shape) < 0.35] = 0.0
    return values


# ------------------------------------------------------------------------- prod
@given(shape_axis=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_prod_with_zeros_matches_numpy_and_finite_differences(shape_axis, keepdims, seed):
    shape, axis = shape_axis
    check(
        lambda t: t.prod(axis=axis, keepdims=keepdims),
        lambda a: np.prod(a, axis=axis, keepdims=keepdims),
        with_zeros(seed, shape),
        seed=seed,
    )


def test_prod_gradient_at_a_single_zero_is_the_product_of_the_others_not_nan():
    x = Tensor([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0]], requires_grad=True)
    with np.errstate(all="raise"):
        x.prod(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])


def test_prod_of_an_empty_axis_is_one_with_an_empty_gradient():
    x = Tensor(np.zeros((2, 0)), requires_grad=True)
    out = x.prod(axis=1)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [1.0, 1.0])
    assert x.grad.shape == (2, 0)


# ------------------------------------------------------------------------- var and std
@pytest.mark.parametrize("name", ["var", "std"])
@given(
    shape_axis=shape_and_axis(),
    keepdims=st.booleans(),
    ddof=st.sampled_from([0, 1, 2]),
    seed=seeds,
)
def test_var_and_std_with_ddof_match_numpy_and_finite_differences(
    name, shape_axis, keepdims, ddof, seed
):
    shape, axis = shape_axis
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    count = int(np.prod([shape[a] for a in axes]))
    x = draw_values(np.random.default_rng(seed), shape)
    method, ref = getattr(Tensor, name), getattr(np, name)
    if count - ddof <= 0:
        with pytest.raises(ValueError, match=f"{name}: {count} entries with ddof={ddof} leave no"):
            method(Tensor(x), axis=axis, keepdims=keepdims, ddof=ddof)
        return
    check(
        lambda t: method(t, axis=axis, keepdims=keepdims, ddof=ddof),
        lambda a: ref(a, axis=axis, keepdims=keepdims, ddof=ddof),
        x,
        seed=seed,
    )


@pytest.mark.parametrize("name", ["var", "std"])
def test_correction_is_pytorchs_name_for_ddof(name):
    x = draw_values(np.random.default_rng(4), (3, 4))
    method = getattr(Tensor, name)
    for correction in (0, 1, 2):
        by_correction = method(Tensor(x), axis=1, correction=correction).data
        by_ddof = method(Tensor(x), axis=1, ddof=correction).data
        np.testing.assert_array_equal(by_correction, by_ddof)
    np.testing.assert_allclose(method(Tensor(x), correction=1).data, getattr(np, name)(x, ddof=1))
    with pytest.raises(ValueError, match=f"{name}: ddof=2 and correction=1 disagree"):
        method(Tensor(x), ddof=2, correction=1)


@pytest.mark.parametrize("name", ["var", "std"])
def test_one_entry_with_ddof_1_is_an_error_where_pytorch_gives_nan(name):
    with pytest.raises(ValueError, match=r"1 entries with ddof=1 .*n - ddof = 0.*NaN"):
        getattr(Tensor([3.0]), name)(ddof=1)
    with pytest.raises(ValueError, match="no degree of freedom"):
        getattr(Tensor(np.ones((2, 1))), name)(axis=1, correction=1)


def test_std_of_equal_entries_is_zero_with_zero_gradient_not_nan():
    x = Tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]], requires_grad=True)
    with np.errstate(all="raise"):
        out = x.std(axis=1, correction=0)
        out.sum().backward()
    np.testing.assert_array_equal(out.data[0], 0.0)
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad[1], [-1, 0, 1] / (3 * np.std([1.0, 2, 3])))


# ------------------------------------------------------------------------- cumsum and cumprod
@st.composite
def shape_and_scan_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5))
    ndim = len(shape)
    axis = draw(st.none() | st.integers(-ndim, ndim - 1)) if ndim else None
    return shape, axis


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@given(shape_axis=shape_and_scan_axis(), seed=seeds)
def test_cumsum_and_cumprod_with_zeros_match_numpy_and_finite_differences(name, shape_axis, seed):
    shape, axis = shape_axis
    check(
        lambda t: getattr(t, name)(axis=axis),
        lambda a: getattr(np, name)(a, axis=axis),
        with_zeros(seed, shape),
        seed=seed,
    )


@given(shape_axis=shape_and_scan_axis(), seed=seeds)
def test_cumprod_third_derivative_with_zeros_matches_differences_of_the_second(shape_axis, seed):
    """At a zero, the product of the other entries has derivatives of every order (in the entries
    before it, and the other zeros): the recorded second derivative, differentiated again."""
    shape, axis = shape_axis
    x0 = with_zeros(seed, shape)
    rng = np.random.default_rng(seed + 1)
    w, u, v = (rng.standard_normal(s) for s in (np.cumprod(x0, axis=axis).shape, shape, shape))

    def derivative(total, x, create_graph=False):  # 0 where total is a constant of x
        if not total.requires_grad:  # (lines of one or two entries)
            return Tensor(np.zeros(shape))
        return autograd.grad(total, [x], create_graph=create_graph)[0]

    def second(values, create_graph):  # d/dx (u · d sum(w · cumprod(x))/dx)
        x = Tensor(values.copy(), requires_grad=True)
        (first,) = autograd.grad(x.cumprod(axis=axis), [x], Tensor(w), create_graph=True)
        return x, derivative((first * Tensor(u)).sum(), x, create_graph)

    x, g = second(x0, True)
    third = derivative((g * Tensor(v)).sum(), x)
    # cumprod is linear in each entry, and so are its derivatives: central differences are
    # exact for any step, and a step of 0.01 keeps rounding (divided by the step) small
    numeric = np.zeros(shape)
    for index in np.ndindex(shape):
        step = np.zeros(shape)
        step[index] = 0.01
        up, down = (np.sum(v * second(x0 + s, False)[1].data) for s in (step, -step))
        numeric[index] = (up - down) / 0.02
    np.testing.assert_allclose(third.data, numeric, rtol=1e-6, atol=1e-8)


def test_cumprod_gradient_around_zeros_is_exact_and_never_nan():
    # y = [2, 0, 0, 0]: dy/dx0 = 1 + x1 + x1x2 + x1x2x3 = 1, dy/dx1 = x0 + x0x2 + x0x2x3 = 2 + 6
    # + 6·x3 = 8 + 0, dy/dx2 = x0x1 (1 + x3) = 0, dy/dx3 = x0x1x2 = 0
    x = Tensor([2.0, 0.0, 3.0, 0.0], requires_grad=True)
    with np.errstate(all="raise"):
        x.cumprod().sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 8.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_a_scan_axis_must_be_one_int_in_range(name):
    with pytest.raises(ValueError, match=r"axis 2 is out of range"):
        getattr(Tensor(np.ones((2, 3))), name)(axis=2)
    with pytest.raises(TypeError, match=r"axis must be an int or None, got \(0, 1\)"):
        getattr(Tensor(np.ones((2, 3))), name)(axis=(0, 1))


# ------------------------------------------------------------------------- argmax and argmin
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(shape_axis=shape_and_scan_axis(), keepdims=st.booleans(), seed=seeds)
def test_argmax_and_argmin_are_numpys_indices_as_float_without_gradient(
    name, shape_axis, keepdims, seed
):
    shape, axis = shape_axis
    values = np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64)  # with ties
    x = Tensor(values, requires_grad=True)
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(values, axis=axis, keepdims=keepdims)  # the first of ties
    assert out.dtype == np.float64 and not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.data, expected)


def test_an_argmax_picks_its_entries_as_an_index():
    x = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    rows = Tensor([0.0, 1.0])
    np.testing.assert_array_equal(x[rows, x.argmax(axis=1)].data, [5.0, 7.0])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_and_argmin_errors_name_the_op(name):
    with pytest.raises(ValueError, match=f"{name}: cannot reduce an empty axis of shape"):
        getattr(Tensor(np.ones((2, 0))), name)(axis=1)
    with pytest.raises(TypeError, match=f"{name}: axis must be an int or None"):
        getattr(Tensor(np.ones((2, 2))), name)(axis=(0, 1))
    with pytest.raises(ValueError, match=f"{name}: axis 2 is out of range"):
        getattr(Tensor(np.ones((2, 2))), name)(axis=2)


# ------------------------------------------------------------------------- empty axes
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(2, 0), (0, 3), (0,)])
def test_softmax_family_over_an_empty_axis_is_empty_as_in_numpy_and_pytorch(name, shape):
    x = Tensor(np.zeros(shape), requires_grad=True)
    out = getattr(x, name)(axis=-1)
    assert out.shape == shape
    out.backward(np.zeros(shape))
    assert x.grad.shape == shape


@pytest.mark.parametrize(
    ("shape", "axis", "expected"),
    [((2, 0), 1, [-np.inf, -np.inf]), ((0, 3), 0, [-np.inf] * 3), ((0, 3), 1, [])],
)
def test_logsumexp_over_an_empty_axis_is_minus_infinity_as_in_pytorch(shape, axis, expected):
    x = Tensor(np.zeros(shape), requires_grad=True)
    out = x.logsumexp(axis=axis)
    np.testing.assert_array_equal(out.data, expected)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == shape


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t.prod(axis=1),
        lambda t: t.std(axis=0, ddof=1),
        lambda t: t.var(correction=1),
        lambda t: t.cumsum(axis=1),
        lambda t: t.cumprod(axis=0),
    ],
    ids=["prod", "std", "var", "cumsum", "cumprod"],
)
def test_new_reductions_keep_float32_in_forward_and_backward(fn):
    x = Tensor(with_zeros(5, (3, 4)).astype(np.float32), requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
