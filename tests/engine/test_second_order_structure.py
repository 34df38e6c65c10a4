"""Second derivatives of the reductions, the softmax family, movement, indexing, selection and
matrix ops, by `gradgradcheck` over drawn shapes, axes and values: the first derivative
``vᵀ ∂f/∂x`` (a backward with ``create_graph=True``) against finite differences in ``x`` and in
the cotangent ``v``. Each op is checked squared, ``f(x) * f(x)``, so that its first derivative
depends on ``x`` through the op's own backward as well (`check`, whose cotangent is a
constant, sees a linear op's backward of its backward only this way). Float32 stays float32."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import draw_values

import tinygrad_lab as tl
from tinygrad_lab import Tensor, autograd
from tinygrad_lab.ops import Affine, ModuleInput

seeds = st.integers(0, 2**32 - 1)


def _squared(fn):
    def squared(*tensors):
        out = fn(*tensors)
        return out * out

    return squared


def _gradgradcheck(fn, *arrays):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    assert tl.gradgradcheck(_squared(fn), tensors)


# ------------------------------------------------------------------------- reductions
@st.composite
def shape_axis_keepdims(draw, min_dims=0, min_side=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=min_side, max_side=3))
    choices = [st.none()]
    if shape:
        choices += [
            st.integers(-len(shape), len(shape) - 1),
            hnp.valid_tuple_axes(len(shape), min_size=1),
        ]
    return shape, draw(st.one_of(choices)), draw(st.booleans())


REDUCTIONS = {  # name: (method call, value domain, smallest side: 2 for a std of 2 entries)
    "sum": (lambda t, a, k: t.sum(axis=a, keepdims=k), "any", 1),
    "mean": (lambda t, a, k: t.mean(axis=a, keepdims=k), "any", 1),
    "amax": (lambda t, a, k: t.amax(axis=a, keepdims=k), "distinct", 1),
    "amin": (lambda t, a, k: t.amin(axis=a, keepdims=k), "distinct", 1),
    "prod": (lambda t, a, k: t.prod(axis=a, keepdims=k), "nonzero", 1),
    "var": (lambda t, a, k: t.var(axis=a, keepdims=k), "any", 2),
    "std": (lambda t, a, k: t.std(axis=a, keepdims=k), "any", 2),
    "norm 2": (lambda t, a, k: t.norm(2, axis=a, keepdims=k), "nonzero", 1),
    "norm 1": (lambda t, a, k: t.norm(1, axis=a, keepdims=k), "nonzero", 1),
    "norm 3": (lambda t, a, k: t.norm(3, axis=a, keepdims=k), "nonzero", 1),
    "norm 0.5": (lambda t, a, k: t.norm(0.5, axis=a, keepdims=k), "nonzero", 1),
    "norm inf": (lambda t, a, k: t.norm(np.inf, axis=a, keepdims=k), "distinct", 1),
    "norm 0": (lambda t, a, k: t.norm(0, axis=a, keepdims=k) + t.sum(), "nonzero", 1),
    "logsumexp": (lambda t, a, k: t.logsumexp(axis=a, keepdims=k), "any", 1),
    "np.sum": (lambda t, a, k: np.sum(t, axis=a, keepdims=k), "any", 1),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data(), seed=seeds)
def test_a_reduction_is_twice_differentiable(name, data, seed):
    fn, domain, min_side = REDUCTIONS[name]
    shape, axis, keepdims = data.draw(shape_axis_keepdims(int(min_side > 1), min_side))
    x = draw_values(np.random.default_rng(seed), shape, domain)
    _gradgradcheck(lambda t: fn(t, axis, keepdims), x)


SOFTMAX_FAMILY = {
    "softmax": lambda t, axis: t.softmax(axis=axis),
    "log_softmax": lambda t, axis: t.log_softmax(axis=axis),
    "max values": lambda t, axis: t.max(dim=axis).values,
    "sort values": lambda t, axis: t.sort(dim=axis, descending=True).values,
}


@pytest.mark.parametrize("name", SOFTMAX_FAMILY)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data(), seed=seeds)
def test_an_op_along_an_axis_is_twice_differentiable(name, shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = draw_values(np.random.default_rng(seed), shape, "distinct")
    _gradgradcheck(lambda t: SOFTMAX_FAMILY[name](t, axis), x)


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), seed=seeds)
def test_median_is_twice_differentiable(shape, seed):
    x = draw_values(np.random.default_rng(seed), shape, "distinct")
    _gradgradcheck(lambda t: t.median(), x)


PIECEWISE_LINEAR = {  # their first derivative is a constant where it exists: the second is 0
    "amax": lambda t: t.amax(axis=0),
    "amin": lambda t: t.amin(),
    "median": lambda t: t.median(),
    "norm inf": lambda t: t.norm(np.inf, axis=-1),
    "norm -inf": lambda t: t.norm(-np.inf),
    "norm 0": lambda t: t.norm(0),
}


@pytest.mark.parametrize("name", PIECEWISE_LINEAR)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), seed=seeds)
def test_a_second_derivative_that_is_zero_almost_everywhere_is_zero_ties_too(name, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(np.float64)  # few values: ties are the rule
    t = Tensor(x, requires_grad=True)
    weights = Tensor(rng.standard_normal(PIECEWISE_LINEAR[name](t).shape))
    (first,) = autograd.grad(PIECEWISE_LINEAR[name](t), [t], weights, create_graph=True)
    PIECEWISE_LINEAR[name](t).backward(weights)
    np.testing.assert_array_equal(first.data, t.grad)  # the ordinary backward's gradient
    assert not first.requires_grad  # a constant: its derivative is 0


# values in quarters: n equal ones sum exactly, so the std is exactly 0
@given(n=st.integers(2, 5), correction=st.sampled_from([0, 1]), value=st.integers(-12, 12))
def test_at_a_zero_std_the_second_derivative_is_taken_as_if_the_std_were_1(n, correction, value):
    t = Tensor(np.full(n, value / 4), requires_grad=True)
    (first,) = autograd.grad(t.std(correction=correction), [t], create_graph=True)
    np.testing.assert_array_equal(first.data, np.zeros(n))
    hessian = np.stack([autograd.grad(first[i], [t], retain_graph=True)[0].data for i in range(n)])
    # d/dx_j of (x_i - mean) / (n - correction): (δ_ij - 1/n) / (n - correction)
    np.testing.assert_allclose(hessian, (np.eye(n) - 1 / n) / (n - correction), atol=1e-15)


# ------------------------------------------------------------------------- movement
MOVEMENT = {  # name: function of a tensor of any shape
    "reshape": lambda t: t.reshape(-1),
    "T": lambda t: t.T,
    "permute": lambda t: t.permute(*range(t.ndim)[::-1]),
    "np.moveaxis": lambda t: np.moveaxis(t, 0, -1) if t.ndim else t,
    "expand": lambda t: t.expand(2, *t.shape),
    "np.broadcast_to": lambda t: np.broadcast_to(t, (3, *t.shape)),
    "repeat": lambda t: t.repeat(2, *(1,) * t.ndim),
    "np.flip": lambda t: np.flip(t),
    "pad": lambda t: tl.nn.functional.pad(t, (1, 2) * t.ndim) if t.ndim else t,
    "cat": lambda t: tl.cat([t, t * 2], dim=0) if t.ndim else t,
    "stack": lambda t: tl.stack([t, t * 2], dim=-1),
    "unbind": lambda t: t.unbind(0)[-1] if t.ndim else t,
    "module input": lambda t: ModuleInput.apply(t),
}


@pytest.mark.parametrize("name", MOVEMENT)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), seed=seeds)
def test_a_movement_op_is_twice_differentiable(name, shape, seed):
    x = draw_values(np.random.default_rng(seed), shape)
    _gradgradcheck(MOVEMENT[name], x)


@st.composite
def shape_and_index(draw):
    """A shape and an index into it: basic, integer arrays with repeats, a boolean mask."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    rng = np.random.default_rng(draw(seeds))
    kind = draw(st.sampled_from(["basic", "int array", "int arrays", "mask"]))
    if kind == "basic":
        return shape, draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "int array":  # more picks than entries: repeats are the rule, negatives too
        n = shape[0]
        return shape, rng.integers(-n, n, size=draw(st.integers(1, 2 * n + 2)))
    if kind == "int arrays":
        return shape, tuple(rng.integers(0, side, size=4) for side in shape)
    return shape, rng.random(shape) < 0.5


@given(shape_index=shape_and_index(), seed=seeds)
def test_getitem_and_a_write_into_a_graph_tensor_are_twice_differentiable(shape_index, seed):
    shape, index = shape_index
    rng = np.random.default_rng(seed)
    x, value = draw_values(rng, shape), draw_values(rng, np.zeros(shape)[index].shape)

    def written(t, v):
        out = t * 1.0  # a tensor of the graph: the write is the op IndexPut
        out[index] = v
        return out

    _gradgradcheck(lambda t: t[index], x)
    _gradgradcheck(written, x, value)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data(), seed=seeds)
def test_gather_where_and_masked_fill_are_twice_differentiable(shape, data, seed):
    rng = np.random.default_rng(seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    index = rng.integers(0, shape[dim], size=shape)  # repeats too
    mask = rng.random(shape) < 0.5
    x, y = draw_values(rng, shape), draw_values(rng, shape[1:])
    _gradgradcheck(lambda t: t.gather(dim, index), x)
    _gradgradcheck(lambda a, b: tl.where(mask, a, b), x, y)
    _gradgradcheck(lambda a, b: np.where(mask, a * b, b), x, y)
    _gradgradcheck(lambda t: t.masked_fill(mask, 0.5), x)


# ------------------------------------------------------------------------- matrix products
@given(
    pair=st.sampled_from([((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4))])
    | st.sampled_from([((2, 2, 3), (3, 2)), ((3,), (2, 3, 1)), ((2, 1, 3), (2, 3, 2))]),
    seed=seeds,
)
def test_matmul_is_twice_differentiable(pair, seed):
    rng = np.random.default_rng(seed)
    a, b = (draw_values(rng, shape) for shape in pair)
    _gradgradcheck(lambda s, t: s @ t, a, b)


@given(n=st.integers(1, 3), widths=st.tuples(st.integers(1, 3), st.integers(1, 3)), seed=seeds)
def test_affine_and_its_stacked_form_are_twice_differentiable(n, widths, seed):
    rng = np.random.default_rng(seed)
    (d_in, d_out), layers = widths, 2
    x, w, b = (
        rng.standard_normal((n, d_in)),
        rng.standard_normal(widths),
        rng.standard_normal(d_out),
    )
    _gradgradcheck(lambda *ts: Affine.apply(*ts), x, w, b)
    _gradgradcheck(lambda *ts: Affine.apply(*ts), x, w)
    xs = rng.standard_normal((layers, n, d_in))
    ws, bs = rng.standard_normal((layers, *widths)), rng.standard_normal((layers, 1, d_out))
    _gradgradcheck(lambda *ts: Affine.apply(*ts), xs, ws, bs)


# ------------------------------------------------------------------------- float32
FLOAT32 = {
    "sum": lambda t: (t * t).sum(axis=0),
    "mean": lambda t: (t * t).mean(),
    "amax": lambda t: (t * t).amax(axis=1),
    "std": lambda t: t.std(axis=1),
    "norm": lambda t: t.norm(3),
    "logsumexp": lambda t: t.logsumexp(axis=1),
    "softmax": lambda t: t.softmax(axis=0),
    "getitem": lambda t: (t * t)[[0, 0, 1]],
    "gather": lambda t: (t * t).gather(1, np.array([[0, 0], [1, 2]])),
    "cat": lambda t: tl.cat([t * t, t], dim=1),
    "matmul": lambda t: t @ t.T,
    "affine": lambda t: Affine.apply(t, t.T, t[0, :2]),
}


@pytest.mark.parametrize("name", FLOAT32)
def test_a_recorded_backward_keeps_float32(name):
    x = Tensor(np.random.default_rng(0).uniform(0.5, 2.0, (2, 3)).astype(np.float32), True)
    (first,) = autograd.grad(FLOAT32[name](x).sum(), [x], create_graph=True)
    (second,) = autograd.grad((first * first).sum(), [x])
    assert first.dtype == second.dtype == np.float32
