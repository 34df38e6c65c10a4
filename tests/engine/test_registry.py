"""One registration per op: its method, its nn.functional function, its ufunc and, for an
activation, its layer and registry entry all come from it, for a user's op as for a built-in."""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lab as tl
import tinygrad_lab.nn.functional as F
from tinygrad_lab import nn
from tinygrad_lab.nn import activations
from tinygrad_lab.numpy_interop import UFUNC_METHODS
from tinygrad_lab.ops import REGISTRY, register
from tinygrad_lab.ops.registry import unregister

ENGINE_PAGE = Path(__file__).resolve().parents[2] / "docs" / "engine.md"


class Softsign(tl.Function):
    """softsign(x) = x / (1 + |x|), as the README's example writes it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.abs(x)) ** 2


class Deg2Rad(tl.Function):
    """Degrees to radians: a user's op that is a NumPy ufunc too (``np.deg2rad``)."""

    @staticmethod
    def forward(ctx, x):
        return x * (np.pi / 180)

    @staticmethod
    def backward(ctx, grad):
        return grad * (np.pi / 180)


def forget(name: str, layer: str | None = None) -> None:
    """Undo a test's registration, so that no other test sees it."""
    if name in REGISTRY:
        unregister(name)
    nn.ACTIVATIONS.pop(name, None)
    if layer is not None:
        activations.LAYERS.pop(layer, None)
        vars(activations).pop(layer, None)


@pytest.fixture
def softsign():
    entry = register("softsign", Softsign, layer=True)
    yield entry
    forget("softsign", "Softsign")


@pytest.fixture
def deg2rad():
    entry = register("deg2rad", Deg2Rad, ufunc=(np.deg2rad, np.radians), aliases=("radians",))
    yield entry
    forget("deg2rad")


finite = st.floats(-5, 5, allow_nan=False, width=64)


@settings(max_examples=25, deadline=None)
@given(values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4), elements=finite))
def test_a_registered_activation_is_one_op_three_ways_as_the_readme_shows(values):
    register("softsign", Softsign, layer=True)
    try:
        ways = {
            "method": lambda t: t.softsign(),
            "functional": lambda t: F.softsign(t),
            "layer": lambda t: nn.Softsign()(t),
        }
        for way, apply in ways.items():
            x = tl.Tensor(values, requires_grad=True)
            y = apply(x)
            assert y.grad_fn.name == "Softsign", way
            y.sum().backward()
            np.testing.assert_array_equal(y.data, values / (1 + np.abs(values)), err_msg=way)
            np.testing.assert_array_equal(x.grad, 1 / (1 + np.abs(values)) ** 2, err_msg=way)
        assert nn.get_activation("softsign").layer is nn.Softsign
        assert nn.activation_of(nn.Softsign()) is nn.ACTIVATIONS["softsign"]
    finally:
        forget("softsign", "Softsign")


@given(values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4), elements=finite))
def test_a_registered_ufunc_and_alias_are_the_op(values):
    register("deg2rad", Deg2Rad, ufunc=(np.deg2rad, np.radians), aliases=("radians",))
    try:
        for way, apply in {
            "method": _method("deg2rad"),
            "alias": _method("radians"),
            "ufunc": np.deg2rad,
            "other ufunc": np.radians,
        }.items():
            x = tl.Tensor(values, requires_grad=True)
            y = apply(x)
            assert y.grad_fn.name == "Deg2Rad", way
            y.sum().backward()
            np.testing.assert_array_equal(y.data, values * (np.pi / 180), err_msg=way)
            np.testing.assert_array_equal(x.grad, np.full(values.shape, np.pi / 180), err_msg=way)
    finally:
        forget("deg2rad")


def _method(name: str):
    return lambda t: getattr(t, name)()


def test_a_registered_method_is_discoverable(softsign, deg2rad):
    assert "softsign" in dir(tl.Tensor) and "radians" in dir(tl.Tensor)
    assert "softsign" in dir(F) and "Softsign" in dir(nn)
    assert tl.Tensor.softsign.__doc__ == Softsign.__doc__
    assert UFUNC_METHODS[np.deg2rad] == "deg2rad" and UFUNC_METHODS[np.radians] == "deg2rad"


def test_forgetting_a_registration_removes_its_method_and_ufunc(deg2rad):
    unregister("deg2rad")
    assert not hasattr(tl.Tensor, "deg2rad") and not hasattr(tl.Tensor, "radians")
    assert np.deg2rad not in UFUNC_METHODS
    with pytest.raises(TypeError, match="np.deg2rad has no op"):
        np.deg2rad(tl.Tensor([1.0]))


def test_registering_again_replaces_a_users_op_and_a_builtin_name_is_refused(softsign):
    class Softsign2(Softsign):
        pass

    register("softsign", Softsign2, layer=True)
    assert tl.Tensor([1.0]).softsign().grad_fn is None  # (no grad needed: no node)
    assert tl.Tensor([1.0], requires_grad=True).softsign().grad_fn.name == "Softsign2"
    for taken in ("exp", "relu", "sum", "reshape", "asinh"):
        with pytest.raises(ValueError, match=f"'{taken}' is already a Tensor method"):
            register(taken, Softsign)
    with pytest.raises(ValueError, match="'backward' is already a Tensor method"):
        register("backward", Softsign)


def test_settings_are_taken_by_position_or_by_name_and_pytorch_names():
    x = tl.Tensor(np.linspace(-2, 2, 9))
    np.testing.assert_array_equal(x.leaky_relu(0.2).data, x.leaky_relu(negative_slope=0.2).data)
    np.testing.assert_array_equal(F.leaky_relu(x, 0.2).data, x.leaky_relu(0.2).data)
    m = tl.Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.sum(1, True).data, m.data.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(m.sum(dim=1, keepdim=True).data, m.sum(1, True).data)
    np.testing.assert_array_equal(m.var(dim=1).data, m.data.var(axis=1, ddof=1))
    with pytest.raises(TypeError, match="leaky_relu: takes 1 setting"):
        x.leaky_relu(0.2, 0.3)
    with pytest.raises(TypeError, match="leaky_relu: got two values for negative_slope"):
        x.leaky_relu(0.2, negative_slope=0.3)
    with pytest.raises(TypeError, match="sum: give axis= or dim=, not both"):
        m.sum(axis=0, dim=1)


def test_help_shows_the_ops_settings():
    assert str(inspect.signature(tl.Tensor.leaky_relu)) == "(self, /, negative_slope=0.01)"
    assert str(inspect.signature(F.softmax)) == "(input, axis=-1)"
    assert "negative_slope" in tl.Tensor.leaky_relu.__doc__


@settings(max_examples=30, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    data=st.data(),
)
def test_arithmetic_methods_are_the_operators(shapes, data):
    a, b = (
        data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0.5, 3)))
        for shape in shapes.input_shapes
    )
    pairs = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "pow": lambda x, y: x**y,
    }
    for name, operator in pairs.items():
        x, y = tl.Tensor(a, requires_grad=True), tl.Tensor(b, requires_grad=True)
        by_method = getattr(x, name)(y)
        by_method.sum().backward()
        gx, gy = x.grad, y.grad
        x.grad = y.grad = None
        by_operator = operator(x, y)
        by_operator.sum().backward()
        np.testing.assert_array_equal(by_method.data, by_operator.data, err_msg=name)
        np.testing.assert_array_equal(gx, x.grad, err_msg=name)
        np.testing.assert_array_equal(gy, y.grad, err_msg=name)
    x = tl.Tensor(a)
    np.testing.assert_array_equal(x.neg().data, (-x).data)


def test_matmul_method_is_the_operator():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(tl.Tensor(a).matmul(b).data, (tl.Tensor(a) @ b).data)


def _documented_methods() -> set[str]:
    text = ENGINE_PAGE.read_text()
    section = text[text.index("## The ops as methods") : text.index("Constructors, as in PyTorch")]
    return set(re.findall(r"`([A-Za-z_][\w]*)", section))


# words in backticks in docs/engine.md's op list: arguments, values or functions, not methods
NOT_METHODS = {"axis", "keepdims", "ddof", "correction", "dim", "keepdim", "none", "tanh", "tl"}
NOT_METHODS |= {"beta", "alpha", "approximate", "Tensor", "y"}


def test_the_engine_page_lists_every_registered_method_and_nothing_else():
    registered = {n for e in REGISTRY.values() for n in (e.name, *e.aliases)}
    documented = _documented_methods()
    assert registered - documented == set()
    assert documented - registered - NOT_METHODS == set()
