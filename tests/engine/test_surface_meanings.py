"""Where NumPy and PyTorch give one name two meanings, a call means what it means in PyTorch, or
is an error naming both (docs/pytorch/tensor.md lists every decision); and what a PyTorch user
reaches for first (size(), dim(), tolist(), iteration, np.sum(t)) does what it does there."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import draw_values

import tinygrad_lab as tl
from tinygrad_lab import Tensor

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def grad_of(fn, x: np.ndarray) -> np.ndarray:
    t = Tensor(x, requires_grad=True)
    fn(t).backward()
    return t.grad


# ------------------------------------------------------------------------- transpose
def test_transpose_of_a_square_matrix_swaps_its_dimensions_not_nothing():
    k = Tensor(np.arange(9.0).reshape(3, 3))
    np.testing.assert_array_equal(k.transpose(0, 1).data, k.data.T)
    np.testing.assert_array_equal(k.transpose(-2, -1).data, k.data.T)
    q = Tensor(np.eye(3) + np.arange(9.0).reshape(3, 3))
    np.testing.assert_array_equal((q @ k.transpose(-2, -1)).data, q.data @ k.data.T)


def test_transpose_of_3d_swaps_the_two_dimensions_named():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose(1, 2).shape == (2, 4, 3)
    np.testing.assert_array_equal(x.transpose(1, 2).data, np.swapaxes(x.data, 1, 2))


@pytest.mark.parametrize(
    "call",
    [lambda x: x.transpose(), lambda x: x.transpose((1, 0, 2)), lambda x: x.transpose(2, 0, 1)],
)
def test_numpys_transpose_calls_are_errors_naming_permute_and_T(call):
    with pytest.raises(TypeError, match=r"swaps two dimensions, as PyTorch's.*permute.*\.T"):
        call(Tensor(np.zeros((2, 3, 4))))


def test_T_reverses_every_dimension_and_mT_swaps_the_last_two():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(x.permute(2, 1, 0).data, x.T.data)
    with pytest.raises(ValueError, match="mT: needs a tensor of at least 2 dimensions"):
        _ = Tensor([1.0, 2.0]).mT


# ------------------------------------------------------------------------- max, min, sort, ...
@pytest.mark.parametrize("name", ["max", "min"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, data=st.data())
def test_max_and_min_with_a_dim_return_values_and_indices_as_pytorch(name, shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    x = np.random.default_rng(seed).integers(0, 3, shape).astype(float)  # ties everywhere
    out = getattr(Tensor(x), name)(dim=dim, keepdim=keepdim)
    values, indices = out  # unpacks as a pair, and by name
    assert out.values is values and out.indices is indices and out[0] is values
    arg = {"max": np.argmax, "min": np.argmin}[name](x, axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(values.data, getattr(np, name)(x, axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.data, arg)  # the first of tied entries
    assert indices.dtype == np.float64 and not indices.requires_grad
    assert getattr(Tensor(x), name)(dim, keepdim).values.shape == values.shape  # by position


def test_max_along_a_dim_gives_the_gradient_to_the_entry_it_names_and_max_shares_it():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    np.testing.assert_array_equal(
        grad_of(lambda t: t.max(1).values.sum(), x), [[0, 1, 0], [1, 0, 0]]
    )
    np.testing.assert_array_equal(
        grad_of(lambda t: t.amax(1).sum(), x), [[0, 0.5, 0.5], [0.5, 0, 0.5]]
    )
    np.testing.assert_array_equal(grad_of(lambda t: t.max(), x), [[0, 0.5, 0.5], [0, 0, 0]])


def test_max_of_a_tensor_is_the_elementwise_maximum_and_of_several_dims_an_error():
    x = Tensor([[1.0, 5.0], [4.0, 2.0]])
    np.testing.assert_array_equal(x.max(Tensor([3.0, 3.0])).data, [[3.0, 5.0], [4.0, 3.0]])
    np.testing.assert_array_equal(x.min(Tensor([3.0, 3.0])).data, [[1.0, 3.0], [3.0, 2.0]])
    assert x.max().shape == () and x.max().item() == 5.0
    with pytest.raises(TypeError, match=r"max\(dim\) takes one dimension .* amax\(dim=\(0, 1\)\)"):
        x.max(dim=(0, 1))


def test_argmax_and_argmin_take_dim_and_keepdim():
    x = Tensor([[1.0, 5.0, 5.0], [4.0, 2.0, 0.0]])
    np.testing.assert_array_equal(x.argmax(dim=1, keepdim=True).data, [[1.0], [0.0]])
    np.testing.assert_array_equal(x.argmin(1).data, [0.0, 2.0])
    assert x.argmax().item() == 1.0


def test_sort_returns_values_and_indices_stable_with_nan_largest():
    x = Tensor([2.0, np.nan, 1.0, 2.0, -np.inf])
    values, indices = x.sort()
    np.testing.assert_array_equal(values.data, [-np.inf, 1.0, 2.0, 2.0, np.nan])
    np.testing.assert_array_equal(indices.data, [4, 2, 0, 3, 1])
    values, indices = x.sort(descending=True)  # ties in their order, NaN first
    np.testing.assert_array_equal(indices.data, [1, 0, 3, 2, 4])
    with pytest.raises(TypeError, match="PyTorch's sort.*NumPy's second argument, kind"):
        x.sort(-1, "stable")


def test_topk_kthvalue_median_and_mode_as_pytorch():
    x = Tensor([[3.0, 1.0, 3.0, 1.0, 2.0], [5.0, 4.0, 6.0, 7.0, 4.0]])
    np.testing.assert_array_equal(x.topk(2).values.data, [[3.0, 3.0], [7.0, 6.0]])
    np.testing.assert_array_equal(x.topk(2).indices.data, [[0, 2], [3, 2]])
    np.testing.assert_array_equal(x.kthvalue(2).values.data, [1.0, 4.0])
    assert Tensor([1.0, 4.0, 2.0, 3.0]).median().item() == 2.0  # the lower middle, not 2.5
    np.testing.assert_array_equal(x.median(1).values.data, [2.0, 5.0])
    values, indices = x.mode(1)  # most frequent; the smallest of a tie; its last position
    np.testing.assert_array_equal(values.data, [1.0, 4.0])
    np.testing.assert_array_equal(indices.data, [3.0, 4.0])
    assert np.isnan(Tensor([1.0, np.nan, 3.0]).median().item())
    with pytest.raises(ValueError, match=r"topk: k=6 is not in 0..5"):
        x.topk(6)


def test_median_of_every_entry_shares_the_gradient_between_ties():
    np.testing.assert_array_equal(
        grad_of(Tensor.median, np.array([1.0, 2.0, 2.0, 3.0])), [0, 0.5, 0.5, 0]
    )


# ------------------------------------------------------------------------- var, std, dim=()
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_take_nothing_positional_after_the_dim(name):
    x = Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(
        TypeError, match=r"PyTorch reads a second positional argument as unbiased, NumPy as dtype"
    ):
        getattr(x, name)(1, True)


@pytest.mark.parametrize("name", ["var", "std"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4), seed=seeds)
def test_var_and_std_divide_by_n_minus_1_by_default_as_pytorch(name, shape, seed):
    x = draw_values(np.random.default_rng(seed), shape)
    deviation = x - x.mean(axis=0)
    variance = (deviation**2).sum(axis=0) / (shape[0] - 1)  # written out: Bessel's correction
    want = variance if name == "var" else np.sqrt(variance)
    t = Tensor(x)
    for got in (
        getattr(t, name)(0),
        getattr(t, name)(dim=0, unbiased=True),
        getattr(t, name)(0, correction=1),
    ):
        np.testing.assert_allclose(got.data, want, rtol=1e-12)
    biased = (deviation**2).sum(axis=0) / shape[0]
    for got in (getattr(t, name)(0, unbiased=False), getattr(t, name)(0, ddof=0)):
        np.testing.assert_allclose(
            got.data, biased if name == "var" else np.sqrt(biased), rtol=1e-12
        )
    whole = getattr(t, name)(False)  # PyTorch's var(unbiased): every entry
    np.testing.assert_allclose(whole.data, getattr(np, name)(x), rtol=1e-12)


def test_a_correction_given_twice_must_agree():
    with pytest.raises(ValueError, match="var: correction=0 and unbiased=1 disagree"):
        Tensor([1.0, 2.0]).var(correction=0, unbiased=True)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod", "var", "std", "norm"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4), seed=seeds)
def test_an_empty_dim_tuple_reduces_over_every_dimension_as_pytorch(name, shape, seed):
    t = Tensor(draw_values(np.random.default_rng(seed), shape))
    np.testing.assert_array_equal(getattr(t, name)(dim=()).data, getattr(t, name)().data)
    assert getattr(t, name)(dim=()).shape == ()


def test_softmax_over_no_dimension_is_each_entry_alone_where_pytorch_has_no_meaning():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(t.softmax(axis=()).data, np.ones((2, 2)))
    np.testing.assert_array_equal(t.logsumexp(axis=()).data, t.data)


def test_a_bool_is_not_a_dimension():
    with pytest.raises(TypeError, match="axis must be an int, a tuple of ints or None"):
        Tensor([1.0, 2.0]).sum(True)


# ------------------------------------------------------------------------- 0-d, iteration
def test_a_0d_tensor_has_no_length_and_no_iteration_as_pytorch():
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(Tensor(5.0))
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(Tensor(5.0))


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds)
def test_iterating_gives_the_slices_along_the_first_dimension_in_the_graph(shape, seed):
    x = draw_values(np.random.default_rng(seed), shape)
    t = Tensor(x, requires_grad=True)
    rows = list(t)
    assert len(rows) == len(t) == shape[0]
    for row, want in zip(rows, x, strict=True):
        np.testing.assert_array_equal(row.data, want)
    sum((i + 1.0) * row.sum() for i, row in enumerate(rows)).backward()
    np.testing.assert_array_equal(
        t.grad,
        np.broadcast_to(
            np.arange(1.0, shape[0] + 1).reshape((-1,) + (1,) * (len(shape) - 1)), shape
        ),
    )


def test_in_asks_whether_some_entry_equals_the_value():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert 3.0 in t and 5.0 not in t and Tensor(4.0) in t


# ------------------------------------------------------------------------- size and friends
@given(shape=shapes)
def test_size_called_is_the_shape_and_alone_the_number_of_entries(shape):
    t = Tensor(np.zeros(shape))
    assert t.size() == shape and t.numel() == int(np.prod(shape)) and t.dim() == len(shape)
    assert t.size == int(np.prod(shape))  # NumPy's size, which PyTorch's has no other reading of
    for d in range(-len(shape), len(shape)):
        assert t.size(d) == shape[d] and t.size(dim=d) == shape[d]
    with pytest.raises(IndexError, match=f"size: no dimension {len(shape)} in a tensor of shape"):
        t.size(len(shape))


@given(shape=shapes, seed=seeds)
def test_tolist_gives_python_floats_as_pytorch(shape, seed):
    x = draw_values(np.random.default_rng(seed), shape)
    assert Tensor(x).tolist() == x.tolist()
    assert isinstance(Tensor(2.5).tolist(), float)


# ------------------------------------------------------------------------- clashes refused
def test_numpys_readings_of_repeat_flatten_and_split_are_errors_naming_both():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match=r"PyTorch's repeat\(\*sizes\).*repeat_interleave"):
        x.repeat(2, axis=0)
    with pytest.raises(TypeError, match=r"flatten: got 'F', NumPy's order"):
        x.flatten("F")
    with pytest.raises(ValueError, match=r"sizes \[1, 1\] must add up to 3.*np.split takes where"):
        x.split([1, 1], dim=1)
    with pytest.raises(ValueError, match=r"Repeat: repeats \(2,\) for shape \(2, 3\)"):
        x.repeat(2)


def test_where_wants_a_bool_condition_as_pytorch():
    with pytest.raises(TypeError, match=r"condition must be a bool tensor .* NumPy would read"):
        tl.where(Tensor([1.0, 0.0]), 1.0, 2.0)
    np.testing.assert_array_equal(tl.where(Tensor([1.0, 0.0]) != 0, 1.0, 2.0).data, [1.0, 2.0])
    rows, columns = tl.where(Tensor([[True, False], [False, True]]))  # the indices, as PyTorch
    np.testing.assert_array_equal(rows.data, [0, 1])
    np.testing.assert_array_equal(columns.data, [0, 1])


def test_chunk_may_give_fewer_pieces_as_pytorch():
    assert [p.shape for p in tl.zeros(5).chunk(4)] == [(2,), (2,), (1,)]
    assert [p.shape for p in tl.zeros(6).chunk(4)] == [(2,), (2,), (2,)]


def test_cat_wants_a_sequence_and_one_dim():
    x = Tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"cat: expects a sequence .* got Tensor"):
        tl.cat(x)
    assert tl.cat([x, x], axis=1).shape == (2, 4) and tl.concatenate([x, x], 1).shape == (2, 4)
    with pytest.raises(TypeError, match="give dim= .* or axis= .*, not both"):
        tl.cat([x, x], dim=1, axis=0)


def test_norm_is_a_vector_norm_and_names_what_it_refuses():
    x = Tensor([[3.0, 0.0], [0.0, 4.0]])
    assert x.norm().item() == 5.0 and x.norm(p=2, dim=(0, 1)).item() == 5.0
    with pytest.raises(ValueError, match="matrix norms such as 'nuc' are not here"):
        x.norm("nuc")
    with pytest.raises(ValueError, match="p=-1 < 0 is not a norm"):
        x.norm(-1)
    zero = Tensor(np.zeros(3), requires_grad=True)
    zero.norm().backward()  # 0/0 at a zero norm: 0, as PyTorch
    np.testing.assert_array_equal(zero.grad, np.zeros(3))


def test_to_takes_a_dtype_a_tensor_or_the_cpu_and_names_what_a_tensor_holds():
    x = Tensor([1.0, 2.0])
    assert x.to("cpu") is x and x.to(np.float64) is x and x.to(x, copy=True) is not x
    assert x.to(Tensor(np.zeros(1, np.float32))).dtype == np.float32
    assert x.to("float32").dtype == np.float32 and (x > 1).to(float).dtype == np.float64
    with pytest.raises(
        TypeError, match="a Tensor holds float32, float64 or bool, not <class 'numpy.int64'>"
    ):
        x.to(np.int64)
    with pytest.raises(ValueError, match="only the CPU here, not 'cuda'"):
        x.to("cuda")


def test_tensor_copies_from_numpy_shares_and_linspace_needs_steps():
    a = np.array([1.0, 2.0])
    copied, shared = tl.tensor(a), tl.from_numpy(a)
    a[0] = 9.0
    assert copied.data[0] == 1.0 and shared.data[0] == 9.0
    assert tl.tensor([1, 2], requires_grad=True).requires_grad
    np.testing.assert_array_equal(tl.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(TypeError, match="linspace"):
        tl.linspace(0, 1)
    with pytest.raises(TypeError, match="from_numpy: expected a float32, float64 or bool ndarray"):
        tl.from_numpy(np.arange(3))


# ------------------------------------------------------------------------- NumPy's functions
def test_numpys_functions_on_a_tensor_are_the_ops_with_numpys_meaning():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    t = Tensor(x, requires_grad=True)
    cases = {
        "sum": (np.sum(t), np.sum(x)),
        "sum axis": (np.sum(t, axis=0, keepdims=True), np.sum(x, axis=0, keepdims=True)),
        "mean": (np.mean(t, 1), np.mean(x, 1)),
        "max": (np.max(t, axis=(0, 1)), np.max(x)),
        "var": (np.var(t, axis=1), np.var(x, axis=1)),  # NumPy's default: divided by n
        "std ddof": (np.std(t, ddof=1), np.std(x, ddof=1)),
        "transpose": (np.transpose(t), x.T),
        "reshape": (np.reshape(t, (3, 2)), np.reshape(x, (3, 2))),
        "concatenate": (np.concatenate([t, t], axis=1), np.concatenate([x, x], axis=1)),
        "concatenate None": (np.concatenate([t, t], axis=None), np.concatenate([x, x], axis=None)),
        "stack": (np.stack([t, t], 1), np.stack([x, x], 1)),
        "where": (np.where(x > 2, t, 0.0), np.where(x > 2, x, 0.0)),
        "clip": (np.clip(t, 2, 5), np.clip(x, 2, 5)),
        "einsum": (np.einsum("ij->j", t), np.einsum("ij->j", x)),
        "tile": (np.tile(t, 2), np.tile(x, 2)),
        "repeat": (np.repeat(t, 2, axis=1), np.repeat(x, 2, axis=1)),
        "sort": (np.sort(t), np.sort(x)),
        "squeeze": (np.squeeze(np.expand_dims(t, 0)), x),
        "swapaxes": (np.swapaxes(t, 0, 1), x.T),
        "cumsum": (np.cumsum(t), np.cumsum(x)),
        "cumprod": (np.cumprod(t, axis=1), np.cumprod(x, axis=1)),
        "prod": (np.prod(t, axis=0), np.prod(x, axis=0)),
        "amax": (np.amax(t, axis=1), np.amax(x, axis=1)),
        "min": (np.min(t, axis=(0, 1), keepdims=True), np.min(x, keepdims=True)),
        "permute_dims": (np.permute_dims(t, (1, 0)), x.T),
        "ravel": (np.ravel(t), np.ravel(x)),
        "expand_dims": (np.expand_dims(t, (0, 3)), np.expand_dims(x, (0, 3))),
        "moveaxis": (np.moveaxis(t[None], [0, 2], [2, 0]), np.moveaxis(x[None], [0, 2], [2, 0])),
        "flip": (np.flip(t, -1), np.flip(x, -1)),
        "flip all": (np.flip(t), np.flip(x)),
        "broadcast_to": (np.broadcast_to(t, (4, 2, 3)), np.broadcast_to(x, (4, 2, 3))),
        "atleast_1d": (np.atleast_1d(np.sum(t)), np.atleast_1d(np.sum(x))),
    }
    for name, (ours, numpys) in cases.items():
        assert isinstance(ours, Tensor) and ours.requires_grad, name
        np.testing.assert_allclose(ours.data, numpys, rtol=1e-12, err_msg=name)
    np.sum(t * t).backward()
    np.testing.assert_array_equal(t.grad, 2 * x)


def test_numpys_zeros_like_and_ones_like_of_a_tensor_are_constant_tensors():
    t = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    for function, value in ((np.zeros_like, 0.0), (np.ones_like, 1.0)):
        made = function(t)
        assert isinstance(made, Tensor) and not made.requires_grad and made.dtype == np.float32
        np.testing.assert_array_equal(made.data, np.full((2, 3), value))
    assert np.zeros_like(t, dtype=np.float64).dtype == np.float64


def test_numpys_functions_refuse_what_they_do_not_take_by_name():
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        TypeError, match=r"np.sum on a Tensor takes no dtype=; call it on the values"
    ):
        np.sum(t, dtype=np.float32)
    with pytest.raises(TypeError, match=r"np.sum on a Tensor takes no out="):
        np.sum(t, out=np.zeros(()))
    with pytest.raises(
        ValueError,
        match=r"axis=\(\)\) reduces over no axis in NumPy, and over every axis in PyTorch",
    ):
        np.sum(t, axis=())
    with pytest.raises(ValueError, match=r"np.squeeze: axis 0 of shape \(2,\) is not of size 1"):
        np.squeeze(t, 0)


def test_another_numpy_function_computes_outside_the_graph_unless_a_gradient_would_be_lost():
    t = Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"np.linalg.norm has no op .*\(np.linalg.norm\(t.data\)\)"):
        np.linalg.norm(t)
    assert np.linalg.norm(t.detach()) == 5.0  # no gradient to lose: NumPy's result
    assert np.allclose(t, [3.0, 4.0]) and np.argmax(t) == 1 and np.shape(t) == (2,)
    with pytest.raises(TypeError, match=r"np.median has no op"):
        np.median(t)


# ------------------------------------------------------------------------- Python's protocols
def test_masks_combine_with_invert_and_or_xor_and_reduce_with_any_all():
    a, b = Tensor([1.0, -2.0, 3.0, -4.0]) > 0, Tensor([1.0, 1.0, -1.0, -1.0]) > 0
    for got, want in (
        (~a, [False, True, False, True]),
        (a & b, [True, False, False, False]),
        (a | b, [True, True, True, False]),
        (a ^ b, [False, True, True, False]),
    ):
        assert got.dtype == bool and not got.requires_grad
        np.testing.assert_array_equal(got.data, want)
    assert (a | b).any().item() and not (a & b).all().item()
    np.testing.assert_array_equal(Tensor([[1.0, 0.0], [2.0, 3.0]]).all(dim=1).data, [False, True])
    np.testing.assert_array_equal(
        Tensor([[1.0, 0.0], [0.0, 0.0]]).any(1, True).data, [[True], [False]]
    )
    with pytest.raises(TypeError, match=r"~: for bool tensors .* got float64"):
        ~Tensor([1.0])


def test_int_and_abs_of_a_tensor_as_pytorch():
    assert int(Tensor(3.7)) == 3 and int(Tensor([-2.5])) == -2
    np.testing.assert_array_equal(
        grad_of(lambda t: abs(t).sum(), np.array([-1.0, 2.0])), [-1.0, 1.0]
    )


def test_argsort_is_sorts_indices():
    x = Tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    np.testing.assert_array_equal(x.argsort(1).data, [[1, 2, 0], [0, 2, 1]])
    np.testing.assert_array_equal(x.argsort(dim=0, descending=True).data, [[0, 1, 1], [1, 0, 0]])


def test_backward_takes_pytorchs_gradient_keyword():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])


def test_pytorchs_legacy_sizes_constructor_is_not_read_as_data_and_requires_grad():
    with pytest.raises(TypeError, match=r"requires_grad=3 is not True or False.*tl.zeros\(2, 3\)"):
        Tensor(2, 3)
    assert Tensor([1.0], 1).requires_grad and not Tensor([1.0], 0).requires_grad


def test_view_of_a_dtype_is_refused_naming_to():
    with pytest.raises(TypeError, match=r"reshape: a shape is whole numbers.*to\(dtype\)"):
        Tensor([1.0, 2.0]).view(np.float32)


def test_gather_takes_no_negative_index_as_pytorch():
    with pytest.raises(IndexError, match=r"Gather: index holds -1..0, outside 0..2 .* no negative"):
        Tensor(np.zeros((2, 3))).gather(1, [[-1], [0]])
    with pytest.raises(ValueError, match=r"Gather: index of shape \(1, 4\) for input \(2, 3\)"):
        Tensor(np.zeros((2, 3))).gather(0, [[1, 0, 1, 1]])


def test_a_p_norm_below_1_gives_a_zero_entry_gradient_0_not_nan():
    t = Tensor([0.0, 4.0], requires_grad=True)
    t.norm(0.5).backward()
    assert t.grad[0] == 0.0 and np.isfinite(t.grad).all()


def test_a_python_int_is_data_not_a_size_and_the_swap_names_are_transpose():
    assert Tensor(5).shape == () and Tensor(5).item() == 5.0  # torch.Tensor(5): 5 entries
    assert Tensor.swapaxes is Tensor.transpose and Tensor.swapdims is Tensor.transpose


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod", "logsumexp", "norm"])
def test_the_argument_after_the_dim_is_keepdim_and_numpys_dtype_there_is_refused(name):
    t = Tensor(np.arange(1.0, 7.0).reshape(2, 3))
    args = (2, 1) if name == "norm" else (1,)  # norm(p, dim, keepdim)
    assert getattr(t, name)(*args, True).shape == (2, 1)
    with pytest.raises(
        TypeError, match=r"keepdim must be True or False, got <class 'numpy.float32'>"
    ):
        getattr(t, name)(*args, np.float32)


def test_narrow_view_as_and_reshape_as_as_pytorch():
    x = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    np.testing.assert_array_equal(x.narrow(1, -3, 2).data, x.data[:, 1:3])
    with pytest.raises(IndexError, match="narrow: start 3 and length 2 do not fit dimension 1"):
        x.narrow(1, 3, 2)
    like = Tensor(np.zeros((2, 6)))
    assert x.view_as(like).shape == (2, 6) and x.reshape_as(like).shape == (2, 6)
    x.view_as(like).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))
