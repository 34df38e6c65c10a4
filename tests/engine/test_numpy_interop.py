"""NumPy on Tensors: a ufunc that has an op gives that op's Tensor, in the graph (the same values
and gradients as the method), with a Tensor on either side; every other ufunc, and every other
way of calling one, is a TypeError naming it; ``np.asarray(t)`` is the data."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import draw_values

from tinygrad_lab import Tensor

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)

UNARY = {  # ufunc: (what the Tensor computes instead, value domain)
    np.exp: (Tensor.exp, "any"),
    np.log: (Tensor.log, "positive"),
    np.sqrt: (Tensor.sqrt, "positive"),
    np.absolute: (Tensor.abs, "nonzero"),
    np.fabs: (Tensor.abs, "nonzero"),
    np.tanh: (Tensor.tanh, "any"),
    np.negative: (lambda t: -t, "any"),
    np.sin: (Tensor.sin, "any"),
    np.cos: (Tensor.cos, "any"),
    np.tan: (Tensor.tan, "tan"),
    np.arcsin: (Tensor.asin, "unit"),
    np.arccos: (Tensor.acos, "unit"),
    np.arctan: (Tensor.atan, "any"),
    np.sinh: (Tensor.sinh, "any"),
    np.cosh: (Tensor.cosh, "any"),
    np.arcsinh: (Tensor.asinh, "any"),
    np.arccosh: (Tensor.acosh, "above 1"),
    np.arctanh: (Tensor.atanh, "unit"),
    np.cbrt: (Tensor.cbrt, "nonzero"),
    np.log2: (Tensor.log2, "positive"),
    np.log10: (Tensor.log10, "positive"),
    np.log1p: (Tensor.log1p, "above -1"),
    np.exp2: (Tensor.exp2, "any"),
    np.expm1: (Tensor.expm1, "any"),
    np.square: (Tensor.square, "any"),
    np.reciprocal: (Tensor.reciprocal, "nonzero"),
    np.sign: (Tensor.sign, "nonzero"),
}
BINARY = {  # ufunc: (what the Tensor computes instead, domains of the two operands)
    np.add: (lambda a, b: a + b, "any", "any"),
    np.subtract: (lambda a, b: a - b, "any", "any"),
    np.multiply: (lambda a, b: a * b, "any", "any"),
    np.true_divide: (lambda a, b: a / b, "any", "nonzero"),
    np.power: (lambda a, b: a**b, "positive", "any"),
    np.maximum: (Tensor.maximum, "nonzero", "small"),
    np.minimum: (Tensor.minimum, "nonzero", "small"),
    np.logaddexp: (Tensor.logaddexp, "any", "any"),
    np.logaddexp2: (Tensor.logaddexp2, "any", "any"),
    np.hypot: (Tensor.hypot, "nonzero", "any"),
    np.arctan2: (Tensor.atan2, "nonzero", "any"),
}
COMPARISONS = [np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal]


def same_graph_result(via_numpy, via_method, inputs: list) -> None:
    """Both give a Tensor with the same values, made by the same op, and the same gradients."""
    grads = []
    for fn in (via_numpy, via_method):
        tensors = [Tensor(a.copy(), requires_grad=True) for a in inputs]
        out = fn(*tensors)
        assert isinstance(out, Tensor) and out.requires_grad
        out.backward(np.ones(out.shape))
        grads.append((out.data, type(out.grad_fn), [t.grad for t in tensors]))
    (values, op, grad), (want_values, want_op, want_grad) = grads
    assert op is want_op
    np.testing.assert_array_equal(values, want_values)
    for g, want in zip(grad, want_grad, strict=True):
        np.testing.assert_array_equal(g, want)


@pytest.mark.parametrize("ufunc", UNARY, ids=lambda u: u.__name__)
@given(shape=shapes, seed=seeds)
def test_a_unary_ufunc_on_a_tensor_is_its_op_in_the_graph(ufunc, shape, seed):
    method, domain = UNARY[ufunc]
    x = draw_values(np.random.default_rng(seed), shape, domain)
    same_graph_result(ufunc, method, [x])


@pytest.mark.parametrize("ufunc", BINARY, ids=lambda u: u.__name__)
@given(pair=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3), seed=seeds)
def test_a_binary_ufunc_of_two_tensors_is_its_op_in_the_graph(ufunc, pair, seed):
    method, left_domain, right_domain = BINARY[ufunc]
    rng = np.random.default_rng(seed)
    left = draw_values(rng, pair.input_shapes[0], left_domain)
    right = draw_values(rng, pair.input_shapes[1], right_domain)
    same_graph_result(ufunc, method, [left, right])


@pytest.mark.parametrize("ufunc", BINARY, ids=lambda u: u.__name__)
def test_a_binary_ufunc_of_an_array_or_number_and_a_tensor_is_a_tensor_either_way(ufunc):
    method, left_domain, right_domain = BINARY[ufunc]
    rng = np.random.default_rng(0)
    left, right = draw_values(rng, (2, 3), left_domain), draw_values(rng, (3,), right_domain)
    same_graph_result(lambda b: ufunc(left, b), lambda b: method(Tensor(left), b), [right])
    same_graph_result(lambda a: ufunc(a, right), lambda a: method(a, Tensor(right)), [left])
    number = np.float64(right.flat[0])
    same_graph_result(lambda a: ufunc(a, number), lambda a: method(a, float(number)), [left])


def test_ndarray_operators_on_a_tensor_give_tensors_in_the_graph():
    a, t = np.array([[1.0, 2.0]]), Tensor([3.0, 4.0], requires_grad=True)
    for out in (a + t, a - t, a * t, a / t, a**t, np.float64(2.0) * t):
        assert isinstance(out, Tensor) and out.requires_grad
    out = a @ Tensor([[1.0], [1.0]], requires_grad=True)
    assert isinstance(out, Tensor) and type(out.grad_fn).__name__ == "MatMul"


@pytest.mark.parametrize("ufunc", COMPARISONS, ids=lambda u: u.__name__)
def test_a_comparison_ufunc_gives_a_bool_tensor_outside_the_graph(ufunc):
    a, t = np.array([1.0, 2.0, 3.0]), Tensor([3.0, 2.0, 1.0], requires_grad=True)
    for out, want in ((ufunc(a, t), ufunc(a, t.data)), (ufunc(t, a), ufunc(t.data, a))):
        assert isinstance(out, Tensor) and out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.data, want)


def test_numpy_scalars_take_the_tensors_dtype_as_numbers_do():
    t = Tensor(np.ones(3, dtype=np.float32))
    assert (np.float64(2.0) * t).dtype == np.float32
    assert np.maximum(t, np.float64(0.5)).dtype == np.float32
    assert np.exp(t).dtype == np.float32


SUPPORTED = {*UNARY, *BINARY, *COMPARISONS, np.matmul, np.positive}
OTHERS = sorted(
    (u for u in vars(np).values() if isinstance(u, np.ufunc) and u not in SUPPORTED),
    key=lambda u: u.__name__,
)


@pytest.mark.parametrize("ufunc", OTHERS, ids=lambda u: u.__name__)
def test_every_other_ufunc_is_a_type_error_naming_it(ufunc):
    tensors = [Tensor([1.0, 2.0], requires_grad=True) for _ in range(ufunc.nin)]
    with pytest.raises(TypeError, match=rf"np\.{ufunc.__name__} has no op in tinygrad_lab"):
        ufunc(*tensors)


def test_the_supported_ufuncs_are_the_ones_with_an_op():
    assert len(OTHERS) > 40 and np.floor in OTHERS and np.isnan in OTHERS
    assert np.positive(t := Tensor([1.0])) is t


def test_ufunc_methods_and_output_arrays_are_type_errors_naming_them():
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.add\.reduce is not supported on a Tensor"):
        np.add.reduce(t)
    with pytest.raises(TypeError, match=r"np\.multiply\.outer is not supported"):
        np.multiply.outer(t, t)
    with pytest.raises(TypeError, match=r"np\.exp\(\.\.\., out=\.\.\.\) cannot write"):
        np.exp(t, out=np.zeros(2))
    array = np.zeros(2)
    with pytest.raises(TypeError, match=r"np\.add\(\.\.\., out=\.\.\.\).*a = a \+ t"):
        array += t
    np.testing.assert_array_equal(array, [0.0, 0.0])  # untouched
    with pytest.raises(TypeError, match=r"np\.exp on a Tensor takes no dtype="):
        np.exp(t, dtype=np.float32)


def test_asarray_of_a_tensor_is_its_data_and_array_copies_it():
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert np.asarray(t) is t.data
    copy = np.array(t)
    assert copy is not t.data and not np.shares_memory(copy, t.data)
    np.testing.assert_array_equal(copy, t.data)
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(np.asarray([Tensor([1.0]), Tensor([2.0])]), [[1.0], [2.0]])
