"""Every op: forward equals NumPy, and backward equals central finite differences of the NumPy
forward (float64), as hypothesis properties over random shapes (size-1 axes and broadcasting
included), axes and values. Kinks and ties have their own tests in test_ops_conventions.py."""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import check, draw_values

from tinygrad_lab import Tensor, concatenate, stack

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4
)


# ------------------------------------------------------------------------- element-wise
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY = {  # name: (Tensor function, NumPy reference, value domain)
    "neg": (operator.neg, operator.neg, "any"),
    "exp": (Tensor.exp, np.exp, "any"),
    "log": (Tensor.log, np.log, "positive"),
    "sqrt": (Tensor.sqrt, np.sqrt, "positive"),
    "abs": (Tensor.abs, np.abs, "nonzero"),
    "relu": (Tensor.relu, lambda x: np.maximum(x, 0), "nonzero"),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x), "nonzero"),
    "sigmoid": (Tensor.sigmoid, _sigmoid, "any"),
    "tanh": (Tensor.tanh, np.tanh, "any"),
    # "nonzero" values have 0.5 <= |x| < 2: at least 0.4 from the clip bounds ±0.1
    "clip": (lambda x: x.clip(-0.1, 0.1), lambda x: np.clip(x, -0.1, 0.1), "nonzero"),
    "clip min": (lambda x: x.clip(min=0.1), lambda x: np.maximum(x, 0.1), "nonzero"),
    "clip max": (lambda x: x.clip(max=-0.1), lambda x: np.minimum(x, -0.1), "nonzero"),
    "pow 3": (lambda x: x**3, lambda x: x**3, "any"),
    "pow 2 int": (lambda x: x**2, lambda x: x**2, "any"),
    "pow 0": (lambda x: x**0, lambda x: x**0.0, "any"),
    "pow -2": (lambda x: x**-2, lambda x: x**-2.0, "nonzero"),
    "pow 0.5": (lambda x: x**0.5, np.sqrt, "positive"),
    "pow -1.5": (lambda x: x**-1.5, lambda x: x**-1.5, "positive"),
    "number ** tensor": (lambda x: 1.7**x, lambda x: 1.7**x, "any"),
}


@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=seeds)
def test_unary_op_matches_numpy_and_finite_differences(name, shape, seed):
    fn, ref, domain = UNARY[name]
    rng = np.random.default_rng(seed)
    check(fn, ref, draw_values(rng, shape, domain), seed=seed)


@pytest.mark.parametrize("name", UNARY)
def test_unary_op_keeps_float32_in_forward_and_backward(name):
    fn, _, domain = UNARY[name]
    x = Tensor(draw_values(np.random.default_rng(0), (2, 3), domain).astype(np.float32), True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


BINARY = {  # name: (operator, domain of the left operand, domain of the right operand)
    "add": (operator.add, "any", "any"),
    "sub": (operator.sub, "any", "any"),
    "mul": (operator.mul, "any", "any"),
    "div": (operator.truediv, "any", "nonzero"),
    "pow": (operator.pow, "positive", "any"),  # a tensor exponent needs a positive base
}
MODES = ["tensor, tensor", "tensor, number", "number, tensor", "tensor, array", "array, tensor"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", BINARY)
@given(pair=broadcast_pairs, seed=seeds)
def test_binary_op_broadcasts_and_matches_finite_differences(name, mode, pair, seed):
    op, left_domain, right_domain = BINARY[name]
    rng = np.random.default_rng(seed)
    left = draw_values(rng, pair.input_shapes[0], left_domain)
    right = draw_values(rng, pair.input_shapes[1], right_domain)
    if mode == "tensor, tensor":
        check(op, op, left, right, seed=seed)
    elif mode == "tensor, number":
        number = float(right.flat[0])
        check(lambda x: op(x, number), lambda x: op(x, number), left, seed=seed)
    elif mode == "number, tensor":
        number = float(left.flat[0])
        check(lambda y: op(number, y), lambda y: op(number, y), right, seed=seed)
    elif mode == "tensor, array":
        check(lambda x: op(x, right), lambda x: op(x, right), left, seed=seed)
    else:
        check(lambda y: op(left, y), lambda y: op(left, y), right, seed=seed)


def test_binary_op_with_the_same_tensor_twice_sums_both_gradients():
    x = draw_values(np.random.default_rng(0), (3, 2), "positive")
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow):
        check(lambda t, op=op: op(t, t), lambda a, op=op: op(a, a), x)


# ------------------------------------------------------------------------- matmul
@st.composite
def matmul_shapes(draw):
    """Shapes of a @ b: 1-D or 2-D cores, with broadcast batch dimensions in front of 2-D ones."""
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    a_shape = batch.input_shapes[0] + (m, k) if draw(st.booleans()) else (k,)
    b_shape = batch.input_shapes[1] + (k, n) if draw(st.booleans()) else (k,)
    return a_shape, b_shape


@given(
    pair=matmul_shapes(),
    seed=seeds,
    mode=st.sampled_from(["tensor, tensor", "tensor, array", "array, tensor"]),
)
def test_matmul_1d_2d_and_batched_matches_finite_differences(pair, seed, mode):
    rng = np.random.default_rng(seed)
    a, b = (draw_values(rng, shape) for shape in pair)
    if mode == "tensor, tensor":
        check(operator.matmul, operator.matmul, a, b, seed=seed)
    elif mode == "tensor, array":
        check(lambda x: x @ b, lambda x: x @ b, a, seed=seed)
    else:
        check(lambda y: a @ y, lambda y: a @ y, b, seed=seed)


# ------------------------------------------------------------------------- reductions
@st.composite
def shape_and_axis(draw, min_dims=0):
    """A shape and an axis argument for it: None, an int or a tuple, negatives included."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    choices = [st.none()]
    if ndim:
        choices += [st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim, min_size=1)]
    return shape, draw(st.one_of(choices))


REDUCTIONS = {
    "sum": (np.sum, "any"),
    "mean": (np.mean, "any"),
    "amax": (np.max, "distinct"),
    "amin": (np.min, "distinct"),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@given(shape_axis=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_reduction_over_axes_matches_numpy_and_finite_differences(name, shape_axis, keepdims, seed):
    ref, domain = REDUCTIONS[name]
    shape, axis = shape_axis
    x = draw_values(np.random.default_rng(seed), shape, domain)
    check(
        lambda t: getattr(t, name)(axis=axis, keepdims=keepdims),
        lambda a: ref(a, axis=axis, keepdims=keepdims),
        x,
        seed=seed,
    )


def _softmax(x, axis):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _logsumexp(x, axis, keepdims=False):
    return np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))


SOFTMAX_FAMILY = {
    "softmax": (lambda t, axis: t.softmax(axis=axis), _softmax),
    "log_softmax": (
        lambda t, axis: t.log_softmax(axis=axis),
        lambda x, axis: x - _logsumexp(x, axis, keepdims=True),
    ),
    "logsumexp": (lambda t, axis: t.logsumexp(axis=axis), _logsumexp),
}


@pytest.mark.parametrize("name", SOFTMAX_FAMILY)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data(), seed=seeds)
def test_softmax_family_along_an_axis_matches_finite_differences(name, shape, data, seed):
    fn, ref = SOFTMAX_FAMILY[name]
    axis = data.draw(st.integers(-len(shape), len(shape) - 1) | hnp.valid_tuple_axes(len(shape)))
    x = draw_values(np.random.default_rng(seed), shape) * 1.5
    check(lambda t: fn(t, axis), lambda a: ref(a, axis), x, seed=seed)


@given(shape_axis=shape_and_axis(min_dims=1), keepdims=st.booleans(), seed=seeds)
def test_logsumexp_keepdims_matches_finite_differences(shape_axis, keepdims, seed):
    shape, axis = shape_axis
    x = draw_values(np.random.default_rng(seed), shape)
    check(
        lambda t: t.logsumexp(axis=axis, keepdims=keepdims),
        lambda a: _logsumexp(a, axis, keepdims),
        x,
        seed=seed,
    )


# ------------------------------------------------------------------------- movement
@given(shape=shapes, seed=seeds, data=st.data())
def test_reshape_matches_finite_differences(shape, seed, data):
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(size,), (-1,), (1, size), (size, 1, 1), shape[::-1]]))
    x = draw_values(np.random.default_rng(seed), shape)
    check(lambda t: t.reshape(target), lambda a: a.reshape(target), x, seed=seed)
    check(lambda t: t.reshape(*target), lambda a: a.reshape(target), x, seed=seed)


@given(shape=shapes, seed=seeds, data=st.data())
def test_permute_and_T_match_finite_differences(shape, seed, data):
    ndim = len(shape)
    axes = data.draw(st.permutations(range(ndim)))
    axes = [a - ndim if data.draw(st.booleans()) else a for a in axes]  # negatives too
    x = draw_values(np.random.default_rng(seed), shape)
    check(lambda t: t.permute(axes), lambda a: np.transpose(a, axes), x, seed=seed)
    check(lambda t: t.permute(*axes), lambda a: np.transpose(a, axes), x, seed=seed)
    check(lambda t: t.T, lambda a: a.T, x, seed=seed)


@st.composite
def shape_and_index(draw):
    """A shape and an index into it: ints, slices, integer arrays with repeats, boolean masks."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    rng = np.random.default_rng(draw(seeds))
    n = shape[0]
    kind = draw(st.sampled_from(["basic", "int array", "int arrays", "mask", "row mask", "mixed"]))
    if kind == "basic":
        return shape, draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "int array":  # more picks than entries: repeats are the rule, negatives too
        return shape, rng.integers(-n, n, size=draw(st.integers(1, 2 * n + 2)))
    if kind == "int arrays":
        picks = draw(st.integers(1, 6))
        return shape, tuple(rng.integers(0, side, size=picks) for side in shape)
    if kind == "mask":
        return shape, rng.random(shape) < 0.5
    if kind == "row mask":
        return shape, list(rng.random(n) < 0.5)
    return shape, (slice(None), rng.integers(0, shape[1], size=3)) if len(shape) > 1 else [0, 0]


@given(shape_index=shape_and_index(), seed=seeds)
def test_getitem_matches_finite_differences_with_repeated_indices_accumulating(shape_index, seed):
    shape, index = shape_index
    x = draw_values(np.random.default_rng(seed), shape)
    plain = np.asarray(index) if isinstance(index, list) else index
    check(lambda t: t[index], lambda a: a[plain], x, seed=seed)


def test_getitem_with_a_tensor_of_indices_picks_like_an_integer_array():
    x = draw_values(np.random.default_rng(1), (4, 3))
    index = np.array([2, 0, 2, -1])
    check(lambda t: t[Tensor(index)], lambda a: a[index], x)


@given(shape=shapes, count=st.integers(1, 3), seed=seeds, data=st.data())
def test_concatenate_matches_finite_differences(shape, count, seed, data):
    shape = shape or (1,)  # concatenate needs at least one axis
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    arrays = []
    for _ in range(count):
        piece = list(shape)
        piece[axis] = data.draw(st.integers(1, 3))
        arrays.append(draw_values(rng, tuple(piece)))
    check(
        lambda *ts: concatenate(ts, axis=axis),
        lambda *xs: np.concatenate(xs, axis=axis),
        *arrays,
        seed=seed,
    )


@given(shape=shapes, count=st.integers(1, 3), seed=seeds, data=st.data())
def test_stack_matches_finite_differences(shape, count, seed, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    rng = np.random.default_rng(seed)
    arrays = [draw_values(rng, shape) for _ in range(count)]
    check(lambda *ts: stack(ts, axis=axis), lambda *xs: np.stack(xs, axis=axis), *arrays, seed=seed)


def test_a_composite_expression_matches_finite_differences():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)

    def ref(x, w, b):
        z = np.tanh(x @ w + b)
        return (z - _logsumexp(z, axis=1, keepdims=True)).mean()

    check(lambda x, w, b: ((x @ w + b).tanh().log_softmax(axis=1)).mean(), ref, x, w, b)
