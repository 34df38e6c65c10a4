"""No silent wrong gradient: each case the adversarial review found, failing before its fix.

Writes through a view or a detached copy are caught after any number of other writes; an index
is saved as it was; re-initialising weights is a tracked write; a tensor's part in the graph is
fixed when the op ran; a gradient keeps its tensor's dtype; a keyword Tensor, a missing input
and an optional input given as None get the engine's own clear answer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_lab import Function, Tensor, nn, ops


def leaf(shape=(3,), seed=0) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def unrelated_writes(count: int) -> None:
    others = [Tensor(np.zeros(2)) for _ in range(count)]
    for other in others:
        other.add_(1.0)


@settings(max_examples=20, deadline=None)
@given(count=st.integers(0, 300), through=st.sampled_from(["detach", "view", "base"]))
def test_a_write_into_saved_memory_is_caught_after_any_number_of_other_writes(count, through):
    x = leaf((2, 3))
    c = Tensor(np.arange(6.0).reshape(2, 3))
    saved = c[0] if through == "base" else c  # Mul saves this array
    y = (x[0] * saved).sum() if through == "base" else (x * saved).sum()
    target = {"detach": c.detach(), "view": c[0], "base": c}[through]
    target.add_(100.0)  # the memory Mul saved, written through another tensor
    unrelated_writes(count)
    with pytest.raises(RuntimeError, match="changed in place since"):
        y.backward()
    assert x.grad is None


def test_writes_into_other_memory_after_many_writes_raise_nothing():
    x, c = leaf(), Tensor(np.arange(3.0))
    y = (x * c).sum()
    unrelated_writes(200)
    y.backward()
    np.testing.assert_array_equal(x.grad, np.arange(3.0))


@pytest.mark.parametrize("kind", ["bool Tensor", "float Tensor", "int ndarray", "bool ndarray"])
def test_an_index_changed_after_forward_does_not_move_the_gradient(kind):
    x = leaf((4,))
    positions = np.array([True, False, True, False])
    index = {
        "bool Tensor": Tensor(positions),
        "float Tensor": Tensor(np.array([0.0, 2.0])),
        "int ndarray": np.array([0, 2]),
        "bool ndarray": positions.copy(),
    }[kind]
    y = (x[index] * 10.0).sum()
    target = index.data if isinstance(index, Tensor) else index
    target[...] = target[::-1]  # the index now points elsewhere ([1, 3] or [F, T, F, T])
    y.backward()
    np.testing.assert_array_equal(x.grad, [10.0, 0.0, 10.0, 0.0])


@pytest.mark.parametrize(
    "reinit",
    [
        lambda w: nn.init.uniform_(w, -1.0, 1.0, rng=1),
        lambda w: nn.init.zeros_(w),
        lambda w: nn.init.normal_(w, rng=2),
        lambda w: nn.init.xavier_uniform_(w, rng=3),
    ],
    ids=["uniform_", "zeros_", "normal_", "xavier_uniform_"],
)
def test_reinitialising_weights_after_forward_is_caught(reinit):
    layer = nn.Linear(3, 2, rng=0)
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    loss = layer(x).sum()
    version = layer.weight.version
    assert version == 1  # its initialisation was a write already, as in PyTorch
    reinit(layer.weight)
    assert layer.weight.version == version + 1
    with pytest.raises(RuntimeError, match="changed in place since"):
        loss.backward()


@pytest.mark.parametrize("op", ["+", "*", "-", "/", "@"])
def test_requires_grad_switched_on_after_forward_gets_no_gradient_from_that_graph(op):
    x = leaf((2, 2))
    c = Tensor(np.full((2, 2), 2.0))
    y = {"+": x + c, "*": x * c, "-": x - c, "/": x / c, "@": x @ c}[op]
    c.requires_grad_()  # after the op ran: its part in the graph was fixed then
    y.sum().backward()
    assert c.grad is None and x.grad is not None


def test_a_hooks_gradient_keeps_the_tensors_dtype_and_a_bool_one_is_refused():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    handle = x.register_hook(lambda g: np.full(3, 2.0))  # float64
    (x * 1.0).sum().backward()
    assert x.grad.dtype == np.float32
    handle.remove()
    x.register_hook(lambda g: np.array([True, False, True]))
    with pytest.raises(ValueError, match="of bools, expected"):
        (x * 1.0).sum().backward()


def test_an_in_place_write_that_numpy_cannot_cast_names_the_method():
    mask = Tensor(np.array([True, False]))
    with pytest.raises(TypeError, match=r"add_: cannot write float64 values into a bool tensor"):
        mask.add_(1.0)
    assert mask.version == 0 and mask.data.tolist() == [True, False]


class Scale(Function):
    """x * factor, with an optional bias input."""

    @staticmethod
    def forward(ctx, x, bias=None, factor=2.0):
        ctx.factor = factor
        return x * factor + (0.0 if bias is None else bias)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, (None if not ctx.needs_input_grad[1] else grad)


def test_an_optional_input_given_as_none_is_no_input():
    x = leaf()
    Scale.apply(x, None, factor=3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 3.0))
    w, b = leaf((3, 2), seed=1), None
    out = ops.Affine.apply(x.reshape(1, 3), w, b)
    np.testing.assert_array_equal(out.data, x.data.reshape(1, 3) @ w.data)


def test_a_tensor_given_by_keyword_is_refused_as_a_setting():
    x, b = leaf(), leaf(seed=1)
    with pytest.raises(TypeError, match=r"Scale.apply: bias= is a Tensor, but keyword arguments"):
        Scale.apply(x, bias=b)


def test_a_missing_input_names_the_forward_signature_not_staticmethod():
    with pytest.raises(TypeError, match=r"Mul.forward\(ctx, x, y\) could not be called") as error:
        ops.Mul.apply(leaf())
    assert "staticmethod" not in str(error.value)


def test_a_zero_dimensional_leaf_used_twice_gets_an_array_gradient():
    x = Tensor(2.0, requires_grad=True)
    (x * x).backward()
    (x * 3.0).backward()  # accumulated into the first
    assert type(x.grad) is np.ndarray and x.grad.shape == ()
    assert x.grad == 7.0
