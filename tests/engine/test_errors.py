"""Errors around backward: shape mismatches name the op and both shapes and change nothing, a
custom backward returning the wrong gradients is named, and a backward that fails part-way
leaves every .grad and the graph as they were."""

import numpy as np
import pytest

from tinygrad_lab import Function, Tensor, concatenate


def leaf(shape=(2, 3), seed=0) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# ------------------------------------------------------------------------- shape errors
SHAPE_ERRORS = {  # name: (failing op on x of shape (2, 3), the message naming op and shapes)
    "matmul": (lambda x: x @ Tensor(np.ones((4, 5))), r"MatMul: shapes \(2, 3\) @ \(4, 5\)"),
    "broadcast": (lambda x: x + Tensor(np.ones(4)), r"Add: inputs of shapes \(2, 3\), \(4,\)"),
    "broadcast array": (lambda x: np.ones((3, 1, 2)) * x, r"Mul: .*\(3, 1, 2\), \(2, 3\)"),
    "reshape": (lambda x: x.reshape(4, 2), r"Reshape: cannot reshape \(2, 3\).* into \(4, 2\)"),
    "concatenate": (
        lambda x: concatenate([x, Tensor(np.ones((2, 2)))], axis=0),
        r"Concatenate: inputs of shapes \(2, 3\), \(2, 2\)",
    ),
}


@pytest.mark.parametrize("name", SHAPE_ERRORS)
def test_shape_mismatch_names_the_op_and_both_shapes_and_changes_nothing(name):
    fn, message = SHAPE_ERRORS[name]
    x = leaf((2, 3))
    (x * 2.0).sum().backward()
    data_before, grad_before = x.data.copy(), x.grad.copy()
    with pytest.raises(ValueError, match=message):
        fn(x)
    np.testing.assert_array_equal(x.data, data_before)
    np.testing.assert_array_equal(x.grad, grad_before)


class WrongShapeBackward(Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, grad):
        return np.ones(7)


class TwoGradientsForOneInput(Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def test_a_backward_returning_the_wrong_shape_or_count_names_the_op():
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward.backward.*\(7,\).*\(2, 3\)"):
        WrongShapeBackward.apply(leaf((2, 3))).backward()
    with pytest.raises(
        RuntimeError, match=r"TwoGradientsForOneInput.backward returned 2 grad.*1 in"
    ):
        TwoGradientsForOneInput.apply(leaf()).backward()


def test_an_error_part_way_through_backward_changes_no_grad_and_keeps_the_graph():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    a.grad = np.array([10.0, 10.0])
    out = (a * b).sum()  # backward reaches leaf a before leaf b

    def fail(grad):
        raise RuntimeError("hook failed")

    handle = b.register_hook(fail)
    with pytest.raises(RuntimeError, match="hook failed"):
        out.backward()
    np.testing.assert_array_equal(a.grad, [10.0, 10.0])
    assert b.grad is None
    handle.remove()
    out.backward()  # the graph was not released: the same backward now succeeds
    np.testing.assert_array_equal(a.grad, [13.0, 14.0])
    np.testing.assert_array_equal(b.grad, [1.0, 2.0])
