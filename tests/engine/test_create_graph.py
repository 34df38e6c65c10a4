"""The engine's differentiable backward (``create_graph=True``) and ``tl.autograd.grad``: the
walk, the saved Tensors, hooks, accumulation, and the errors that stop a silently wrong second
derivative. (The ops' second derivatives are property-tested op by op elsewhere.)"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tinygrad_lab as tl
from tinygrad_lab import Function

values = arrays(np.float64, st.integers(1, 5), elements=st.floats(-3, 3))


@given(values)
def test_grad_of_grad_of_a_polynomial_is_its_second_derivative(a):
    x = tl.Tensor(a, requires_grad=True)
    y = (x * x * x - x * 2.0).sum()
    (g,) = tl.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.data, 3 * a**2 - 2)
    (h,) = tl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * a)
    assert x.grad is None  # autograd.grad touches no .grad


@given(values)
def test_backward_with_create_graph_leaves_a_grad_in_the_graph(a):
    x = tl.Tensor(a, requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)
    assert isinstance(x.grad, tl.Tensor) and x.grad.requires_grad
    first = x.grad.data.copy()
    np.testing.assert_allclose(first, 3 * a**2)
    (x.grad**2).sum().backward()  # accumulates d/dx sum(9 x^4) = 36 x^3 onto 3 x^2
    np.testing.assert_allclose(np.asarray(x.grad.data), first + 36 * a**3)


def test_an_ordinary_backward_still_gives_arrays():
    x = tl.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert type(x.grad) is np.ndarray


def test_retain_graph_defaults_to_create_graph():
    x = tl.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    tl.autograd.grad(y, x, create_graph=True)
    tl.autograd.grad(y, x)  # the graph was kept: a second pass works
    with pytest.raises(RuntimeError, match="already freed"):
        tl.autograd.grad(y, x)


def test_grad_of_several_outputs_sums_their_products_with_grad_outputs():
    rng = np.random.default_rng(0)
    a, w1, w2 = rng.normal(size=3), rng.normal(size=3), rng.normal()
    x = tl.Tensor(a, requires_grad=True)
    (g,) = tl.autograd.grad([x * x, (x * x * x).sum()], [x], [tl.Tensor(w1), tl.Tensor(w2)])
    np.testing.assert_allclose(g.data, 2 * a * w1 + 3 * a**2 * w2)


def test_grad_with_respect_to_an_intermediate_tensor():
    x = tl.Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    (gh, gx) = tl.autograd.grad((h * h).sum(), [h, x])
    np.testing.assert_allclose(gh.data, 2 * h.data)
    np.testing.assert_allclose(gx.data, 4 * x.data**3)


def test_a_grad_outputs_tensor_that_requires_grad_is_differentiated_too():
    # the double-vjp trick forward mode can be built from: d/dv (v . J) = J
    x = tl.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = tl.Tensor(np.zeros(3), requires_grad=True)
    (vjp,) = tl.autograd.grad(x * x, x, grad_outputs=v, create_graph=True)
    (jvp,) = tl.autograd.grad(vjp, v, grad_outputs=tl.Tensor(np.ones(3)))
    np.testing.assert_allclose(jvp.data, 2 * x.data)


def test_unused_input_is_an_error_unless_allowed():
    x = tl.Tensor([1.0], requires_grad=True)
    z = tl.Tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        tl.autograd.grad((x * x).sum(), [x, z], retain_graph=True)
    gx, gz = tl.autograd.grad((x * x).sum(), [x, z], allow_unused=True)
    assert gz is None and gx.data.tolist() == [2.0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: tl.autograd.grad((x * x).sum(), [x.data]), r"inputs\[0\] is a ndarray"),
        (lambda x: tl.autograd.grad([], [x]), "outputs is empty"),
        (lambda x: tl.autograd.grad(x * x, x), "one-element output"),
        (lambda x: tl.autograd.grad((x * x).sum(), tl.Tensor([1.0])), "does not require grad"),
        (
            lambda x: tl.autograd.grad([x.sum(), x.sum()], x, [None]),
            "1 grad_outputs for 2 outputs",
        ),
    ],
)
def test_bad_calls_name_what_was_wrong(call, message):
    with pytest.raises((TypeError, ValueError, RuntimeError), match=message):
        call(tl.Tensor([1.0, 2.0], requires_grad=True))


def test_hooks_see_the_gradient_in_the_graph():
    x = tl.Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g * 3.0)
    (g,) = tl.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 6 * x.data)
    (h,) = tl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, [6.0, 6.0])


class SavesAnIntermediate(Function):
    @staticmethod
    def forward(ctx, x):
        square = x * x
        ctx.save_for_backward(square)
        return square * x

    @staticmethod
    def backward(ctx, grad):
        (square,) = ctx.saved_tensors
        return grad * 3 * square


class ComputesOnArrays(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.asarray(grad) * 3 * np.asarray(x) ** 2


def test_ops_whose_backward_cannot_be_differentiated_say_so_not_a_wrong_number():
    for op, message in (
        (SavesAnIntermediate, "neither one of its inputs"),
        (ComputesOnArrays, "expected a Tensor"),
    ):
        x = tl.Tensor([1.0, 2.0], requires_grad=True)
        y = op.apply(x).sum()
        y.backward(retain_graph=True)  # the first derivative is right
        np.testing.assert_allclose(x.grad, 3 * x.data**2)
        with pytest.raises((RuntimeError, TypeError), match=message):
            tl.autograd.grad(y, x, create_graph=True)
