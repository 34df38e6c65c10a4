"""`tl.gradgradcheck`: passes where second derivatives are right (built-in ops, a custom op
written as the engine asks), and names the op and the worst entry where the first derivative
is right and the second is not."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tinygrad_lab as tl
from tinygrad_lab import Function

shapes = st.tuples(st.integers(1, 3), st.integers(1, 2))


def pairs(shape):
    return st.tuples(
        arrays(np.float64, shape, elements=st.floats(-2, 2)),
        arrays(np.float64, shape, elements=st.floats(-2, 2)),
    )


@given(shapes.flatmap(pairs))
def test_passes_on_correct_ops(xy):
    x, y = (tl.Tensor(a, requires_grad=True) for a in xy)
    assert tl.gradgradcheck(lambda x, y: x * y * y + x.tanh(), [x, y])
    assert tl.gradgradcheck(lambda x, y: (x @ y.T).exp().sum(axis=0), [x, y])


class Cube(Function):
    """x³, its backward written with what arrays and Tensors share: twice differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x  # d(x³)/dx = 3x²


class CubeOfAConstant(Function):
    """x³ whose backward turns x into an array: its first derivative is right, but under
    create_graph 3x² is a constant, so the second derivative (6x) comes out 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (3 * np.asarray(x) ** 2)  # the mistake: np.asarray leaves the graph


@given(arrays(np.float64, st.integers(1, 4), elements=st.floats(-2, 2)))
def test_a_custom_op_written_with_shared_operations_passes(a):
    x = tl.Tensor(a, requires_grad=True)
    assert tl.gradcheck(Cube.apply, [x]) and tl.gradgradcheck(Cube.apply, [x])


@given(
    arrays(np.float64, st.integers(1, 4), elements=st.floats(-2, 2)).filter(
        lambda a: np.max(np.abs(a)) > 0.1  # the second derivative 6x differs from 0 by enough
    )
)
def test_a_wrong_second_derivative_is_named_with_its_op_and_worst_entry(a):
    x = tl.Tensor(a, requires_grad=True)
    assert tl.gradcheck(CubeOfAConstant.apply, [x])  # the first derivative is right
    with pytest.raises(tl.GradcheckError) as caught:
        tl.gradgradcheck(lambda x: CubeOfAConstant.apply(x) * 2.0, [x])
    message = str(caught.value)
    assert message.startswith("gradgradcheck of CubeOfAConstant, Mul: input 0, entry (")
    # it checks L(x, v) = sum(w · v·6x²) (v drawn from seed 0, w from seed 1): dL/dx = 12·w·v·x,
    # where the recorded backward gives 0; the worst entry is the largest |12·w·v·x|
    v = np.random.default_rng(0).standard_normal(a.shape)
    w = np.random.default_rng(1).standard_normal(a.shape)
    worst = int(np.argmax(np.abs(12 * w * v * a)))
    assert f"entry ({worst},)" in message and "analytic gradient 0.0" in message


def test_bad_inputs_are_errors():
    with pytest.raises(ValueError, match="no input is a Tensor with requires_grad=True"):
        tl.gradgradcheck(lambda x: x * x, [tl.Tensor([1.0])])
    with pytest.raises(TypeError, match="fn must return a Tensor, got float"):
        tl.gradgradcheck(lambda x: 1.0, [tl.Tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="does not depend on an input that requires grad"):
        tl.gradgradcheck(lambda x: tl.Tensor([2.0]), [tl.Tensor([1.0], requires_grad=True)])
