"""backward() and what surrounds it: seeding, accumulation, graph release, no_grad, hooks, anomaly
mode, user-written Functions, gradcheck, and the errors, each raised before anything changes."""

import inspect
import os
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lab import (
    Function,
    GradcheckError,
    Tensor,
    detect_anomaly,
    gradcheck,
    is_grad_enabled,
    no_grad,
)

THIS_FILE = os.path.basename(__file__)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def leaf(shape=(2, 3), seed=0) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def graph_nodes(root: Tensor) -> list[Function]:
    """Every Function node behind ``root``."""
    nodes, stack, seen = [], [root], set()
    while stack:
        t = stack.pop()
        if t._ctx is not None and id(t._ctx) not in seen:
            seen.add(id(t._ctx))
            nodes.append(t._ctx)
            stack.extend(t._ctx.parents)
    return nodes


# ------------------------------------------------------------------------- seeding backward
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_backward_of_a_one_element_tensor_starts_from_one(shape):
    x = leaf(shape)
    y = (x * 3.0).retain_grad()
    y.backward()
    np.testing.assert_array_equal(y.grad, np.ones(shape))
    np.testing.assert_array_equal(x.grad, np.full(shape, 3.0))


def test_backward_of_a_non_scalar_without_grad_is_a_value_error_saying_so():
    x = leaf((2, 3))
    with pytest.raises(ValueError, match=r"one-element output.*shape \(2, 3\).*pass grad="):
        (x * 2.0).backward()
    assert x.grad is None


def test_backward_with_a_grad_of_the_wrong_shape_names_both_shapes_and_changes_nothing():
    x = leaf((2, 3))
    with pytest.raises(ValueError, match=r"grad has shape \(3, 2\).*tensor has shape \(2, 3\)"):
        (x * 2.0).backward(np.ones((3, 2)))
    assert x.grad is None


def test_backward_of_a_tensor_that_does_not_require_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0]) * 2.0).backward()


def test_a_chain_of_100000_ops_backpropagates_without_recursion_error():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0.0  # one Add node a step
    y.backward()
    assert x.grad == 1.0


# ------------------------------------------------------------------------- accumulation
@given(shape=shapes, seed=seeds)
def test_leaves_accumulate_grad_across_backward_calls_until_zero_grad(shape, seed):
    x = leaf(shape, seed)
    weights = np.random.default_rng(seed + 1).standard_normal(shape)
    (x * weights).sum().backward()
    (x * weights).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * weights)
    x.zero_grad()
    (x * weights).sum().backward()
    np.testing.assert_allclose(x.grad, weights)


@given(shape=shapes, seed=seeds)
def test_a_tensor_used_twice_receives_the_sum_of_both_gradients(shape, seed):
    x = leaf(shape, seed)
    a, b = x * 2.0, x.exp()  # the diamond: x -> a, x -> b, both -> out
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(x.data) + 2 * x.data * np.exp(x.data))
    assert gradcheck(lambda t: (t * 2.0) * t.exp() + t * t, [leaf(shape, seed)])


# ------------------------------------------------------------------------- graph release
def test_backward_releases_saved_arrays_of_every_node():
    x, w = leaf((4, 3)), leaf((3, 2), seed=1)
    out = ((x @ w).tanh() * x.sum(axis=1, keepdims=True)).mean()
    nodes = graph_nodes(out)
    assert all(node.saved_tensors is not None for node in nodes)
    out.backward()
    assert all(node.saved_tensors is None for node in nodes)


def test_a_second_backward_through_a_released_graph_says_to_retain_and_changes_nothing():
    x, w = leaf(), leaf(seed=1)
    hidden = x * 2.0
    hidden.sum().backward()
    grad_before = x.grad.copy()
    with pytest.raises(RuntimeError, match=r"Mul.*already freed.*retain_graph=True"):
        (hidden * w).sum().backward()
    np.testing.assert_array_equal(x.grad, grad_before)
    assert w.grad is None  # reached first by the second pass, yet untouched: nothing ran


def test_retain_graph_keeps_saved_arrays_for_a_second_backward():
    x = leaf()
    out = (x * x).sum()
    out.backward(retain_graph=True)
    assert all(node.saved_tensors is not None for node in graph_nodes(out))
    out.backward()
    np.testing.assert_allclose(x.grad, 4 * x.data)


# ------------------------------------------------------------------------- no_grad
def test_no_grad_context_records_nothing_and_restores_the_mode():
    x = leaf()
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2.0).exp()
    assert is_grad_enabled()
    assert y.requires_grad is False and y.grad_fn is None
    assert (x * 2.0).requires_grad  # recording resumes after the block


def test_no_grad_decorator_records_nothing_even_when_recursive_or_raising():
    x = leaf()

    @no_grad()
    def double(t: Tensor, depth: int) -> Tensor:
        assert not is_grad_enabled()
        return t * 2.0 if depth == 0 else double(t, depth - 1)

    y = double(x, 3)
    assert y.requires_grad is False and y.grad_fn is None
    assert is_grad_enabled()

    @no_grad()
    def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fail()
    assert is_grad_enabled()


# ------------------------------------------------------------------------- hooks
def test_tensor_hook_receives_the_gradient_flowing_into_the_tensor():
    x = leaf()
    y = x * 3.0
    seen = []
    y.register_hook(lambda grad: seen.append(grad.data.copy()))
    weights = np.random.default_rng(2).standard_normal(y.shape)
    y.backward(weights)
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], weights)
    np.testing.assert_allclose(x.grad, 3 * weights)


def test_tensor_hook_may_replace_the_gradient_and_remove_detaches_it():
    x = leaf()
    y = x * 3.0
    handle = y.register_hook(lambda grad: grad * 0.0 + 1.0)
    leaf_handle = x.register_hook(lambda grad: grad * 10.0)
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad, np.full(x.shape, 30.0))  # replaced, then scaled on x
    x.zero_grad()
    handle.remove()
    leaf_handle.remove()
    handle.remove()  # idempotent
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(x.shape, 3.0))


def test_tensor_hook_returning_a_wrong_shape_is_a_value_error_naming_both_shapes():
    x = leaf((2, 3))
    x.register_hook(lambda grad: np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(2, 3\)"):
        (x * 2.0).sum().backward()


def test_register_hook_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(print)


# ------------------------------------------------------------------------- anomaly mode
class NaNBackward(Function):
    """Identity forward; a backward that returns NaN (a bug detect_anomaly must catch)."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return np.full_like(grad, np.nan)


def _next_line() -> int:
    return inspect.currentframe().f_back.f_lineno + 1


@pytest.mark.parametrize("bad", ["inf", "NaN"])
def test_detect_anomaly_names_the_op_and_user_line_of_a_non_finite_forward(bad):
    x = Tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError) as error, np.errstate(invalid="ignore"):
        line = _next_line()
        _ = x * np.inf if bad == "inf" else (x * 0.0) * np.inf  # inf, or 0 * inf = NaN
    expected = f"Mul produced {bad} in its forward result (op created at {THIS_FILE}:{line})"
    assert expected in str(error.value)
    _ = x * np.inf  # anomaly mode ended with the block, even though it raised


def test_detect_anomaly_names_the_op_and_user_line_of_a_non_finite_backward():
    x = leaf()
    with detect_anomaly():
        line = _next_line()
        y = NaNBackward.apply(x)
        with pytest.raises(RuntimeError) as error:
            (y * 2.0).sum().backward()
    expected = (
        f"NaNBackward produced NaN in its backward gradient (op created at {THIS_FILE}:{line})"
    )
    assert expected in str(error.value)


def test_without_detect_anomaly_non_finite_values_pass_silently():
    x = leaf()
    NaNBackward.apply(x).sum().backward()
    assert np.isnan(x.grad).all()
    assert np.isinf((x * np.inf).data).all()


# ------------------------------------------------------------------------- user Functions
class Softplus(Function):
    """log(1 + e^x), written as a user would: the README's example of a custom op."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)  # log(e^0 + e^x), without overflow

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + np.exp(-x))  # d softplus/dx = sigmoid(x)


@given(shape=shapes, seed=seeds)
def test_user_written_softplus_works_through_apply_and_passes_gradcheck(shape, seed):
    x = Tensor(np.random.default_rng(seed).uniform(-4, 4, shape), requires_grad=True)
    out = Softplus.apply(x)
    np.testing.assert_allclose(out.data, np.log1p(np.exp(x.data)))
    assert out.grad_fn.name == "Softplus"
    assert gradcheck(lambda t: Softplus.apply(t * 2.0) * t, [x])


class WrongSquare(Function):
    """x², with the factor 2 forgotten in backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # wrong on purpose: should be 2 x grad


def test_gradcheck_names_input_entry_analytic_and_numeric_of_a_wrong_op():
    constant = Tensor(np.ones((2, 2)))
    x = leaf((2, 2), seed=4)
    data_before = x.data.copy()
    with pytest.raises(GradcheckError) as error:
        gradcheck(lambda c, t: c + WrongSquare.apply(t), [constant, x])
    found = re.search(
        r"input (\d+), entry \((.*)\): analytic gradient (\S+) but numeric (\S+)", str(error.value)
    )
    assert found, str(error.value)
    assert found.group(1) == "1"  # constant (input 0) needs no grad; x is input 1
    entry = tuple(int(i) for i in found.group(2).split(","))
    assert len(entry) == 2 and all(0 <= i < 2 for i in entry)
    analytic, numeric = float(found.group(3)), float(found.group(4))
    assert numeric == pytest.approx(2 * analytic, rel=1e-5)  # the forgotten factor of 2
    np.testing.assert_array_equal(x.data, data_before)  # perturbations are undone
    assert x.grad is None


def test_gradcheck_returns_true_on_correct_ops_and_rejects_what_it_cannot_check():
    x, w = leaf((3, 4)), leaf((4, 2), seed=1)
    assert gradcheck(lambda a, b: (a @ b).sigmoid().log_softmax(axis=0), [x, w]) is True
    with pytest.raises(ValueError, match="no input is a Tensor with requires_grad=True"):
        gradcheck(lambda a: a * 2.0, [Tensor([1.0])])
    with pytest.raises(ValueError, match="input 0 is float32"):
        gradcheck(lambda a: a * 2.0, [Tensor(np.ones(2, np.float32), requires_grad=True)])


def test_no_grad_works_as_a_bare_decorator_too():
    w = Tensor(np.ones(3), requires_grad=True)

    @no_grad
    def predict(x):
        return (x * w).sum()

    out = predict(np.arange(3.0))
    assert out.item() == 3.0 and not out.requires_grad and out._ctx is None
    assert (w * 2).requires_grad  # recording is back on after the call


def test_a_site_in_a_notebook_cell_reads_cell_and_line(monkeypatch):
    """In Jupyter, code runs from a temporary file IPython maps to the cell's number."""
    import sys
    import types

    here = inspect.currentframe().f_code.co_filename
    shell = types.SimpleNamespace(compile=types.SimpleNamespace(_filename_map={here: 7}))
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    x = leaf()
    with detect_anomaly():
        line = _next_line()
        y = x * 2.0
    assert y._ctx.site == f"cell 7:{line}"
