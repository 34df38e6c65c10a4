"""The Tensor itself: construction and dtypes, its attributes and methods, and its repr."""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lab import Tensor

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2**32 - 1)


# ------------------------------------------------------------------------- construction
@pytest.mark.parametrize(
    "data",
    [3, 2.5, -7, [1, 2, 3], [[1.5, 2], [3, 4]], np.arange(6).reshape(2, 3)],
    ids=["int", "float", "negative int", "int list", "nested list", "ints"],
)
def test_numbers_lists_and_ints_become_float64_with_the_same_values(data):
    t = Tensor(data)
    assert isinstance(t.data, np.ndarray)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("data", [True, [True, False], np.array([[True], [False]])])
def test_bools_stay_bool_hold_no_gradient_and_compute_as_numbers(data):
    t = Tensor(data)
    assert t.dtype == np.bool_
    np.testing.assert_array_equal(t.data, np.asarray(data))
    np.testing.assert_array_equal((t * 2.0).data, np.asarray(data) * 2.0)
    with pytest.raises(TypeError, match="only float32 and float64 tensors can require grad"):
        Tensor(data, requires_grad=True)


@given(shape=shapes, seed=seeds, dtype=st.sampled_from([np.float32, np.float64]))
def test_float32_and_float64_arrays_keep_their_dtype_and_share_memory(shape, seed, dtype):
    array = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    t = Tensor(array)
    assert t.dtype == dtype
    assert np.shares_memory(t.data, array)  # like torch.from_numpy: no copy


def test_numpy_float32_scalar_stays_float32_and_other_float_widths_become_float64():
    assert Tensor(np.float32(1.5)).dtype == np.float32
    assert Tensor(np.ones(3, dtype=np.float16)).dtype == np.float64


def test_dtype_argument_converts_and_rejects_non_float_dtypes():
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="float32, float64 or bool.*int64"):
        Tensor([1, 2], dtype=np.int64)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ("abc", "str 'abc'"),
        (["a", "b"], "list \\['a', 'b'\\]"),
        (object(), "object <object object"),
        (None, "NoneType None"),
        ([[1, 2], [3]], "list \\[\\[1, 2\\], \\[3\\]\\]"),
        ([1, "x"], "list \\[1, 'x'\\]"),
        (1 + 2j, "complex"),
    ],
    ids=["string", "string list", "object", "None", "ragged list", "mixed list", "complex"],
)
def test_non_numeric_data_is_a_type_error_naming_what_was_given(data, named):
    with pytest.raises(TypeError, match=f"Tensor: expected numbers.*got {named}"):
        Tensor(data)


def test_tensor_of_a_tensor_shares_its_data():
    t = Tensor([1.0, 2.0])
    assert Tensor(t).data is t.data


# ------------------------------------------------------------------------- attributes
@given(shape=shapes, seed=seeds)
def test_shape_ndim_dtype_and_data_describe_the_wrapped_array(shape, seed):
    array = np.random.default_rng(seed).standard_normal(shape)
    t = Tensor(array)
    assert t.data is array
    assert (t.shape, t.ndim, t.dtype, t.size) == (array.shape, array.ndim, array.dtype, array.size)
    assert t.numpy() is array


def test_new_tensor_has_no_grad_and_requires_grad_only_when_asked():
    t = Tensor([1.0, 2.0])
    assert t.grad is None and t.requires_grad is False and t.is_leaf and t.grad_fn is None
    u = Tensor([1.0, 2.0], requires_grad=1)
    assert u.requires_grad is True and u.grad is None


def test_grad_after_backward_is_an_ndarray_of_the_tensor_shape_and_dtype():
    for dtype in (np.float32, np.float64):
        t = Tensor(np.ones((2, 3), dtype=dtype), requires_grad=True)
        (t * 2.0).sum().backward()
        assert isinstance(t.grad, np.ndarray)
        assert t.grad.shape == (2, 3) and t.grad.dtype == dtype
        np.testing.assert_array_equal(t.grad, np.full((2, 3), 2.0))


@pytest.mark.parametrize("shape", [(), (1,), (1, 1, 1)])
def test_item_returns_the_single_value_as_a_python_float(shape):
    value = Tensor(np.full(shape, 2.5, dtype=np.float32)).item()
    assert type(value) is float and value == 2.5


def test_item_of_several_elements_is_a_value_error_naming_count_and_shape():
    with pytest.raises(ValueError, match=r"item: tensor has 6 elements \(2, 3\), not one"):
        Tensor(np.zeros((2, 3))).item()


def test_detach_shares_data_but_is_a_leaf_outside_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert np.shares_memory(d.data, y.data)
    assert d.requires_grad is False and d.is_leaf and d.grad_fn is None
    out = (d * x).sum()
    out.backward()
    np.testing.assert_array_equal(x.grad, y.data)  # only the direct path through x counts


def test_zero_grad_resets_the_accumulated_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad is not None
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    z = x * 2.0
    y.retain_grad()
    (y * z).sum().backward()
    np.testing.assert_array_equal(y.grad, z.data)
    assert z.grad is None  # not retained: only leaves keep grad by default


# ------------------------------------------------------------------------- repr
def test_repr_shows_values_and_only_the_non_default_facts():
    assert repr(Tensor([1.0, 2.5])) == "Tensor([1. , 2.5])"
    assert repr(Tensor(np.float32(2.0))) == "Tensor(2., dtype=float32)"
    assert repr(Tensor([1.0], requires_grad=True)) == "Tensor([1.], requires_grad=True)"
    x = Tensor([1.0], requires_grad=True)
    assert repr(x * 2.0) == "Tensor([2.], requires_grad=True, grad_fn=Mul)"


def test_repr_of_a_large_tensor_summarizes_shape_and_statistics():
    data = np.arange(100.0).reshape(10, 10)
    text = repr(Tensor(data))
    assert text == f"Tensor(<shape=(10, 10) mean={data.mean():.4g} std={data.std():.4g}>)"
    assert len(text) < 80


# ------------------------------------------------------------------------- dtypes through ops
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("number", [2, 0.5, True, np.float64(1.5)], ids=repr)
def test_float32_stays_float32_with_python_scalars_on_either_side(op, number):
    x = Tensor(np.array([0.5, 1.5, 2.5], dtype=np.float32), requires_grad=True)
    for out in (op(x, number), op(number, x)):
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32
        x.zero_grad()


def test_mixing_float32_and_float64_promotes_forward_and_keeps_each_grad_in_its_dtype():
    a = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = Tensor(np.full(3, 2.0), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, b.data)
    np.testing.assert_array_equal(b.grad, a.data)


@pytest.mark.parametrize("op", [*OPERATORS, operator.matmul], ids=lambda op: op.__name__)
def test_numpy_array_on_the_left_gives_a_tensor_not_an_object_array(op):
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    left = np.array([[0.5, 1.0], [1.5, 2.0]])
    out = op(left, x)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, op(left, x.data))
    out.sum().backward()
    assert x.grad.shape == x.shape


# ------------------------------------------------------------------------- PyTorch's names
@given(shape=hnp.array_shapes(min_dims=2, max_dims=3, max_side=4), seed=seeds)
def test_reductions_take_pytorch_dim_and_keepdim(shape, seed):
    t = Tensor(np.random.default_rng(seed).standard_normal(shape))
    for name in ("sum", "mean", "amax", "amin", "prod", "logsumexp", "var", "std"):
        kwargs = {"correction": 0} if name in ("var", "std") else {}  # (rows of one entry too)
        ours = getattr(t, name)(dim=1, keepdim=True, **kwargs)
        theirs = getattr(t, name)(axis=1, keepdims=True, **kwargs)
        np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(t.softmax(dim=0).data, t.softmax(axis=0).data)
    np.testing.assert_array_equal(t.cumsum(dim=1).data, t.cumsum(axis=1).data)
    with pytest.raises(TypeError, match="give axis= or dim=, not both"):
        t.sum(axis=0, dim=1)


def test_clamp_pow_and_view_are_clip_power_and_reshape():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_array_equal(t.clamp(min=1, max=4).data, np.clip(t.data, 1, 4))
    np.testing.assert_array_equal(t.pow(2).data, t.data**2)
    assert t.view(3, 2).shape == (3, 2) and t.view(-1).shape == (6,)


def test_requires_grad_switches_a_leaf_and_refuses_what_cannot():
    t = Tensor(np.ones(3))
    assert t.requires_grad_() is t and t.requires_grad
    (t * 2).sum().backward()
    np.testing.assert_array_equal(t.grad, [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="only a leaf's requires_grad can be set"):
        (t * 2).requires_grad_(False)
    with pytest.raises(TypeError, match="only float32 and float64 tensors can require grad"):
        Tensor(np.array([True])).requires_grad_()


def test_a_function_without_staticmethod_gets_a_hint_and_inner_errors_stay_as_they_are():
    from tinygrad_lab import Function

    class Forgot(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        def backward(ctx, grad):  # no @staticmethod
            return grad * 2

    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match=r"Forgot.backward could not be called .* @staticmethod"):
        Forgot.apply(x).sum().backward()
    assert x.grad is None

    class Inner(Function):
        @staticmethod
        def forward(ctx, x):
            return len(5)  # the user's own TypeError

    with pytest.raises(TypeError, match="has no len"):
        Inner.apply(x)
