"""The PyTorch surface's new ops against NumPy forward and finite differences backward, over
drawn shapes, dimensions, broadcasting and values (`op_checks.check`): each is differentiable
where PyTorch's is, and its gradient is the derivative of what it computes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import check, draw_values

import tinygrad_lab as tl
from tinygrad_lab import Tensor

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def dims_of(data, shape, extra: int = 0) -> int:
    """A dimension of ``shape`` (``extra`` more allowed at the end), negative half the time."""
    span = max(len(shape) + extra, 1)
    return data.draw(st.integers(-span, span - 1))


# ------------------------------------------------------------------------- shape changes
@given(shape=shapes, seed=seeds, data=st.data())
def test_flatten_joins_the_dimensions_from_start_to_end(shape, seed, data):
    start, end = sorted(dims_of(data, shape) % max(len(shape), 1) for _ in range(2))
    x = draw_values(np.random.default_rng(seed), shape)
    joined = shape[:start] + (int(np.prod(shape[start : end + 1])),) + shape[end + 1 :]
    check(lambda t: t.flatten(start, end), lambda a: a.reshape(joined), x, seed=seed)


@given(shape=nonempty, seed=seeds, data=st.data())
def test_unflatten_splits_one_dimension_into_sizes(shape, seed, data):
    d = dims_of(data, shape)
    n = shape[d]
    first = data.draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]))
    sizes = data.draw(st.sampled_from([(first, n // first), (first, -1), (-1, n // first)]))
    x = draw_values(np.random.default_rng(seed), shape)
    d_pos = d % len(shape)
    want = shape[:d_pos] + (first, n // first) + shape[d_pos + 1 :]
    check(lambda t: t.unflatten(d, sizes), lambda a: a.reshape(want), x, seed=seed)


@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2),
    seed=seeds,
    data=st.data(),
)
def test_squeeze_drops_the_size_1_dimensions_asked_for_and_leaves_the_others(shape, seed, data):
    x = draw_values(np.random.default_rng(seed), shape)
    if not shape or data.draw(st.booleans()):
        check(lambda t: t.squeeze(), np.squeeze, x, seed=seed)
        return
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    ones = tuple(d for d in dims if shape[d] == 1)  # PyTorch: a dimension not 1 stays
    check(lambda t: t.squeeze(tuple(dims)), lambda a: np.squeeze(a, ones), x, seed=seed)
    check(
        lambda t: t.squeeze(dims[0]),
        lambda a: np.squeeze(a, ones[:1] if dims[0] in ones else ()),
        x,
        seed=seed,
    )


@given(shape=shapes, seed=seeds, data=st.data())
def test_unsqueeze_adds_a_dimension_of_size_1(shape, seed, data):
    d = dims_of(data, shape, extra=1)
    x = draw_values(np.random.default_rng(seed), shape)
    check(lambda t: t.unsqueeze(d), lambda a: np.expand_dims(a, d), x, seed=seed)


@given(shape=shapes, seed=seeds, data=st.data())
def test_transpose_swaps_two_dimensions_as_pytorch(shape, seed, data):
    d0, d1 = dims_of(data, shape), dims_of(data, shape)
    x = draw_values(np.random.default_rng(seed), shape)
    swap = (lambda a: np.swapaxes(a, d0, d1)) if shape else (lambda a: a)
    check(lambda t: t.transpose(d0, d1), swap, x, seed=seed)
    check(lambda t: t.swapaxes(d0, d1), swap, x, seed=seed)


@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=3), seed=seeds)
def test_mT_swaps_the_last_two_dimensions(shape, seed):
    x = draw_values(np.random.default_rng(seed), shape)
    check(lambda t: t.mT, lambda a: np.swapaxes(a, -1, -2), x, seed=seed)


@given(shape=shapes, seed=seeds, data=st.data())
def test_expand_broadcasts_with_minus_1_keeping_a_size(shape, seed, data):
    new = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    # each existing dimension: kept (-1, or its size), or a size 1 stretched
    sizes = [data.draw(st.sampled_from([-1, n] if n != 1 else [-1, 1, 2, 3])) for n in shape]
    target = new + tuple(n if s == -1 else s for s, n in zip(sizes, shape, strict=True))
    x = draw_values(np.random.default_rng(seed), shape)
    check(lambda t: t.expand(*new, *sizes), lambda a: np.broadcast_to(a, target), x, seed=seed)
    check(
        lambda t: t.expand_as(Tensor(np.zeros(target))),
        lambda a: np.broadcast_to(a, target),
        x,
        seed=seed,
    )


@given(shape=shapes, seed=seeds, data=st.data())
def test_repeat_tiles_the_whole_tensor_as_numpys_tile(shape, seed, data):
    repeats = tuple(
        data.draw(st.lists(st.integers(1, 3), min_size=max(len(shape), 1), max_size=len(shape) + 2))
    )
    x = draw_values(np.random.default_rng(seed), shape)
    check(lambda t: t.repeat(*repeats), lambda a: np.tile(a, repeats), x, seed=seed)


@given(shape=shapes, seed=seeds, data=st.data())
def test_repeat_interleave_repeats_each_entry_as_numpys_repeat(shape, seed, data):
    count = data.draw(st.integers(0, 3))
    dim = data.draw(st.none() | st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    x = draw_values(np.random.default_rng(seed), shape)
    axis = None if dim is None else (dim if shape else None)
    check(
        lambda t: t.repeat_interleave(count, dim), lambda a: np.repeat(a, count, axis), x, seed=seed
    )


@given(shape=shapes, seed=seeds)
def test_clone_is_a_copy_in_the_graph(shape, seed):
    x = draw_values(np.random.default_rng(seed), shape)
    check(lambda t: t.clone() * 3.0, lambda a: a * 3.0, x, seed=seed)
    check(lambda t: t.clone() * t, lambda a: a * a, x, seed=seed)  # (a second derivative: 2)


@given(shape=shapes, seed=seeds)
def test_float_casts_to_float32_and_passes_the_gradient_back_in_float64(shape, seed):
    rng = np.random.default_rng(seed)
    x, w = Tensor(rng.standard_normal(shape), requires_grad=True), rng.standard_normal(shape)
    out = x.float()
    assert out.dtype == np.float32 and x.to(np.float32).dtype == np.float32
    np.testing.assert_array_equal(out.data, x.data.astype(np.float32))
    (out * Tensor(w.astype(np.float32))).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, w.astype(np.float32).astype(np.float64))
    back = out.double()
    assert back.dtype == np.float64 and back.grad_fn.name == "Cast"


@given(shape=shapes, seed=seeds)
def test_a_cast_is_differentiated_twice_and_each_derivative_keeps_the_inputs_dtype(shape, seed):
    rng = np.random.default_rng(seed)
    a, v, u = (rng.uniform(-2, 2, shape).astype(np.float32) for _ in range(3))
    x = Tensor(a, requires_grad=True)
    (first,) = tl.autograd.grad(x.double() ** 3, x, Tensor(v), create_graph=True)
    assert first.dtype == np.float32
    np.testing.assert_allclose(first.data, 3 * a.astype(np.float64) ** 2 * v, rtol=1e-6)
    (second,) = tl.autograd.grad((first * Tensor(u)).sum(), x)
    assert second.dtype == np.float32
    np.testing.assert_allclose(second.data, 6 * a.astype(np.float64) * v * u, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------- picking entries
@given(shape=nonempty, seed=seeds, data=st.data())
def test_gather_picks_along_a_dimension_and_repeated_picks_add_up(shape, seed, data):
    rng = np.random.default_rng(seed)
    d = dims_of(data, shape)
    # an index no larger than the input in the other dimensions, more picks along d (repeats)
    index_shape = tuple(
        data.draw(st.integers(1, 2 * n)) if i == d % len(shape) else data.draw(st.integers(1, n))
        for i, n in enumerate(shape)
    )
    index = rng.integers(0, shape[d], size=index_shape)
    x = draw_values(rng, shape)
    inside = tuple(slice(0, n) for n in index_shape)
    inside = tuple(slice(None) if i == d % len(shape) else s for i, s in enumerate(inside))

    def ref(a):
        return np.take_along_axis(a[inside], index, axis=d)

    check(lambda t: t.gather(d, index), ref, x, seed=seed)
    check(lambda t: t.gather(d, Tensor(index.astype(float))), ref, x, seed=seed)


@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
    seed=seeds,
)
def test_where_sends_the_gradient_to_the_chosen_side_with_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    condition = rng.random(shapes.input_shapes[0]) < 0.5
    a, b = (draw_values(rng, s) for s in shapes.input_shapes[1:])
    check(
        lambda x, y: tl.where(Tensor(condition), x, y),
        lambda x, y: np.where(condition, x, y),
        a,
        b,
        seed=seed,
    )
    check(
        lambda x, y: x.where(Tensor(condition), y),
        lambda x, y: np.where(condition, x, y),
        a,
        b,
        seed=seed,
    )


@given(shape=shapes, seed=seeds, data=st.data())
def test_masked_fill_keeps_the_gradient_where_the_mask_is_false(shape, seed, data):
    rng = np.random.default_rng(seed)
    # a mask that broadcasts to x's shape: fewer leading dimensions, some of size 1
    kept = data.draw(st.integers(0, len(shape)))
    mask_shape = tuple(data.draw(st.sampled_from([1, n])) for n in shape[len(shape) - kept :])
    mask = rng.random(mask_shape) < 0.5
    x, value = draw_values(rng, shape), draw_values(rng, ())
    check(
        lambda t, v: t.masked_fill(Tensor(mask), v),
        lambda a, v: np.where(mask, v, a),
        x,
        value,
        seed=seed,
    )


@st.composite
def shape_dim_and_sizes(draw):
    """A shape, a dimension of it, and sizes of pieces that add up to it."""
    shape = draw(nonempty)
    d = draw(st.integers(-len(shape), len(shape) - 1))
    n, sizes = shape[d], []
    while sum(sizes) < n:
        sizes.append(draw(st.integers(0, n - sum(sizes))) if len(sizes) < 3 else n - sum(sizes))
    return shape, d, sizes


@given(shape_dim_sizes=shape_dim_and_sizes(), seed=seeds, data=st.data())
def test_split_chunk_and_unbind_pieces_carry_their_own_gradients(shape_dim_sizes, seed, data):
    shape, d, sizes = shape_dim_sizes
    x = draw_values(np.random.default_rng(seed), shape)
    weigh = lambda pieces: [p * (i + 1.0) for i, p in enumerate(pieces)]  # noqa: E731
    cuts = np.cumsum(sizes)[:-1]
    check(
        lambda t: tl.cat(weigh(t.split(sizes, d)), dim=d),
        lambda a: np.concatenate(weigh(np.split(a, cuts, axis=d)), axis=d),
        x,
        seed=seed,
    )
    size = data.draw(st.integers(1, shape[d] + 1))
    at = list(range(size, shape[d], size))  # PyTorch's split(size): pieces of size, then less
    check(
        lambda t: tl.cat(weigh(t.split(size, d)), dim=d),
        lambda a: np.concatenate(weigh(np.split(a, at, axis=d)), axis=d),
        x,
        seed=seed,
    )
    chunks = data.draw(st.integers(1, shape[d] + 1))
    step = -(-shape[d] // chunks)
    check(
        lambda t: tl.cat(weigh(t.chunk(chunks, d)), dim=d),
        lambda a: np.concatenate(
            weigh(np.split(a, list(range(step, shape[d], step)), axis=d)), axis=d
        ),
        x,
        seed=seed,
    )
    check(
        lambda t: tl.stack(weigh(t.unbind(d)), dim=d),
        lambda a: np.stack(weigh(list(np.moveaxis(a, d, 0))), axis=d),
        x,
        seed=seed,
    )


@given(shape=shapes, count=st.integers(1, 3), seed=seeds, data=st.data())
def test_cat_and_stack_take_pytorchs_dim(shape, count, seed, data):
    shape = shape or (1,)
    d = dims_of(data, shape)
    rng = np.random.default_rng(seed)
    arrays = [draw_values(rng, shape) for _ in range(count)]
    check(
        lambda *ts: tl.cat(list(ts), dim=d),
        lambda *xs: np.concatenate(xs, axis=d),
        *arrays,
        seed=seed,
    )
    check(lambda *ts: tl.concat(ts, d), lambda *xs: np.concatenate(xs, axis=d), *arrays, seed=seed)
    e = dims_of(data, shape, extra=1)
    check(lambda *ts: tl.stack(ts, dim=e), lambda *xs: np.stack(xs, axis=e), *arrays, seed=seed)


# ------------------------------------------------------------------------- by order
def _pick(values: np.ndarray, order: np.ndarray, axis: int) -> np.ndarray:
    return np.take_along_axis(values, order, axis=axis)


@given(shape=nonempty, seed=seeds, data=st.data())
def test_sort_topk_and_kthvalue_values_take_their_entries_gradient(shape, seed, data):
    d = dims_of(data, shape)
    n = shape[d]
    x = draw_values(np.random.default_rng(seed), shape, "distinct")  # no ties
    k = data.draw(st.integers(1, n))
    check(lambda t: t.sort(d).values, lambda a: np.sort(a, axis=d), x, seed=seed)
    check(
        lambda t: t.sort(dim=d, descending=True).values,
        lambda a: np.flip(np.sort(a, axis=d), d),
        x,
        seed=seed,
    )
    check(
        lambda t: t.topk(k, d).values,
        lambda a: np.take(np.flip(np.sort(a, axis=d), d), range(k), axis=d),
        x,
        seed=seed,
    )
    check(
        lambda t: t.topk(k, d, largest=False).values,
        lambda a: np.take(np.sort(a, axis=d), range(k), axis=d),
        x,
        seed=seed,
    )
    check(
        lambda t: t.kthvalue(k, d).values,
        lambda a: np.take(np.sort(a, axis=d), k - 1, axis=d),
        x,
        seed=seed,
    )


@pytest.mark.parametrize("name", ["max", "min"])
@given(shape=nonempty, keepdim=st.booleans(), seed=seeds, data=st.data())
def test_max_and_min_along_a_dim_take_their_entries_gradient(name, shape, keepdim, seed, data):
    d = dims_of(data, shape)
    x = draw_values(np.random.default_rng(seed), shape, "distinct")
    ref = getattr(np, name)
    check(
        lambda t: getattr(t, name)(d, keepdim).values,
        lambda a: ref(a, axis=d, keepdims=keepdim),
        x,
        seed=seed,
    )


@given(shape=nonempty, keepdim=st.booleans(), seed=seeds, data=st.data())
def test_median_is_the_lower_middle_entry_as_pytorch(shape, keepdim, seed, data):
    d = dims_of(data, shape)
    x = draw_values(np.random.default_rng(seed), shape, "distinct")
    middle = (shape[d] - 1) // 2

    def lower_median(a, axis):
        return np.take(np.sort(a, axis=axis), [middle], axis=axis)

    check(
        lambda t: t.median(d, keepdim).values,
        lambda a: lower_median(a, d) if keepdim else np.squeeze(lower_median(a, d), d),
        x,
        seed=seed,
    )
    flat_middle = (x.size - 1) // 2
    check(lambda t: t.median(), lambda a: np.sort(a, axis=None)[flat_middle], x, seed=seed)


# ------------------------------------------------------------------------- norm
NORMS = {  # p: (value domain, the norm over axes written out)
    1: ("nonzero", lambda a, axes: np.sum(np.abs(a), axis=axes)),
    2: ("any", lambda a, axes: np.sqrt(np.sum(a * a, axis=axes))),
    3: ("nonzero", lambda a, axes: np.sum(np.abs(a) ** 3, axis=axes) ** (1 / 3)),
    0.5: ("nonzero", lambda a, axes: np.sum(np.abs(a) ** 0.5, axis=axes) ** 2),
    np.inf: ("distinct", lambda a, axes: np.max(np.abs(a), axis=axes)),
    -np.inf: ("distinct", lambda a, axes: np.min(np.abs(a), axis=axes)),
}


@pytest.mark.parametrize("p", NORMS, ids=str)
@given(shape=nonempty, keepdim=st.booleans(), seed=seeds, data=st.data())
def test_norm_over_drawn_dims_matches_its_formula_and_finite_differences(
    p, shape, keepdim, seed, data
):
    domain, formula = NORMS[p]
    axis = data.draw(st.none() | hnp.valid_tuple_axes(len(shape), min_size=1))
    axes = tuple(range(len(shape))) if axis is None else axis
    x = draw_values(np.random.default_rng(seed), shape, domain)
    if domain == "distinct":  # |x| distinct too: away from 0, apart from each other
        x = np.sign(x) * (np.abs(x) + 0.5) * np.linspace(1, 2, x.size).reshape(shape)

    def ref(a):
        out = formula(a, axes)
        return np.expand_dims(out, axes) if keepdim else out

    check(lambda t: t.norm(p, dim=axis, keepdim=keepdim), ref, x, seed=seed)


@given(shape=nonempty, seed=seeds)
def test_frobenius_is_2_and_p_0_counts_with_zero_gradient(shape, seed):
    x = draw_values(np.random.default_rng(seed), shape, "nonzero")
    check(lambda t: t.norm("fro"), lambda a: np.sqrt(np.sum(a * a)), x, seed=seed)
    t = Tensor(x, requires_grad=True)
    count = t.norm(0)
    count.backward()
    assert count.item() == np.count_nonzero(x)
    np.testing.assert_array_equal(t.grad, np.zeros(shape))


# ------------------------------------------------------------------------- einsum
EQUATIONS = {  # equation: shapes of its operands
    "ij,jk->ik": [(2, 3), (3, 4)],
    "ij,jk": [(2, 3), (3, 4)],  # implicit output: ik
    "bij,bjk->bik": [(2, 2, 3), (2, 3, 2)],
    "...ij,...jk->...ik": [(3, 1, 2, 3), (2, 3, 2)],  # batch dimensions broadcast
    "i,j->ij": [(3,), (4,)],
    "i,i->": [(4,)] * 2,
    "ii->i": [(3, 3)],  # a diagonal
    "ii": [(3, 3)],  # the trace
    "ij->": [(2, 3)],
    "ij->ji": [(2, 3)],
    "bi,ij,bj->b": [(2, 3), (3, 4), (2, 4)],  # a bilinear form, three operands
    "ij,ij->ij": [(1, 3), (2, 3)],  # a size 1 stretched
    "ijk->kj": [(2, 3, 2)],  # i summed over, only in the operand
    "iij->j": [(3, 3, 2)],  # a diagonal, summed over
    ",ij->ij": [(), (2, 3)],  # a number times a matrix
}


@pytest.mark.parametrize("equation", EQUATIONS)
@given(seed=seeds)
def test_einsum_matches_numpy_and_its_backward_is_finite_differences(equation, seed):
    rng = np.random.default_rng(seed)
    arrays = [draw_values(rng, s) for s in EQUATIONS[equation]]
    check(
        lambda *ts: tl.einsum(equation, *ts),
        lambda *xs: np.einsum(equation, *xs),
        *arrays,
        seed=seed,
    )
    check(
        lambda *ts: tl.einsum(equation, list(ts)),
        lambda *xs: np.einsum(equation, *xs),
        *arrays,
        seed=seed,
    )
    check(
        lambda *ts: np.einsum(equation, *ts),
        lambda *xs: np.einsum(equation, *xs),
        *arrays,
        seed=seed,
    )


# ------------------------------------------------------------------------- element-wise
UNARY = {  # name: (NumPy's function, value domain)
    "asinh": (np.arcsinh, "any"),
    "acosh": (np.arccosh, "above 1"),
    "atanh": (np.arctanh, "unit"),
    "cbrt": (np.cbrt, "nonzero"),
}


@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=seeds)
def test_inverse_hyperbolics_and_cbrt_match_numpy_and_finite_differences(name, shape, seed):
    function, domain = UNARY[name]
    x = draw_values(np.random.default_rng(seed), shape, domain)
    check(lambda t: getattr(t, name)(), function, x, seed=seed)
    check(lambda t: function(t), function, x, seed=seed)  # the ufunc is the op


@pytest.mark.parametrize("alias", ["arcsinh", "arccosh", "arctanh"])
def test_numpys_names_are_aliases(alias):
    assert getattr(Tensor, alias) is getattr(Tensor, alias.replace("arc", "a"))
