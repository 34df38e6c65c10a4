"""The activations of ops/activation.py, as Tensor methods and as nn layers: forward equals an
independent NumPy formula and backward equals central finite differences (float64) over random
shapes and values; the derivative at each kink is PyTorch's; each is registered once, so the
reference, the self-check, the recorder and the lab use it."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import check

from tinygrad_lab import Tensor, autograd, gradcheck, gradgradcheck, nn, reference
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress.check import check_lab
from tinygrad_lab.reference import NotAnMLPError

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
erf = np.vectorize(math.erf)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softplus(z, beta=1.0):
    return np.log(1 + np.exp(beta * z)) / beta


def gelu_tanh(z):
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))


ACTIVATIONS = {  # name: (Tensor method, layer, NumPy formula, kinks)
    "softplus": (Tensor.softplus, nn.Softplus, softplus, ()),
    "softplus beta=2": (
        lambda t: t.softplus(beta=2.0),
        lambda: nn.Softplus(beta=2.0),
        lambda z: softplus(z, 2.0),
        (),
    ),
    "gelu": (Tensor.gelu, nn.GELU, lambda z: z * (1 + erf(z / np.sqrt(2))) / 2, ()),
    "gelu tanh": (
        lambda t: t.gelu(approximate="tanh"),
        lambda: nn.GELU(approximate="tanh"),
        gelu_tanh,
        (),
    ),
    "silu": (Tensor.silu, nn.SiLU, lambda z: z * sigmoid(z), ()),
    "elu": (Tensor.elu, nn.ELU, lambda z: np.where(z > 0, z, np.exp(z) - 1), ()),
    "elu alpha=0.5": (
        lambda t: t.elu(alpha=0.5),
        lambda: nn.ELU(alpha=0.5),
        lambda z: np.where(z > 0, z, 0.5 * (np.exp(z) - 1)),
        (0.0,),
    ),
    "relu6": (Tensor.relu6, nn.ReLU6, lambda z: np.minimum(np.maximum(z, 0), 6), (0.0, 6.0)),
    "hardswish": (
        Tensor.hardswish,
        nn.Hardswish,
        lambda z: z * np.minimum(np.maximum(z + 3, 0), 6) / 6,
        (-3.0, 3.0),
    ),
    "mish": (Tensor.mish, nn.Mish, lambda z: z * np.tanh(np.log(1 + np.exp(z))), ()),
}


def values_away_from(kinks, seed: int, shape: tuple) -> np.ndarray:
    """Uniform on (-5, 8), moved 0.1 away from each kink, where differences say nothing."""
    values = np.random.default_rng(seed).uniform(-5.0, 8.0, shape)
    for kink in kinks:
        near = np.abs(values - kink) < 0.1
        values[near] = kink + 0.1 * np.sign(values[near] - kink + 1e-12)
    return np.asarray(values, dtype=np.float64)


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(shape=shapes, seed=seeds)
def test_activation_method_matches_its_formula_and_finite_differences(name, shape, seed):
    method, _, formula, kinks = ACTIVATIONS[name]
    check(method, formula, values_away_from(kinks, seed, shape), seed=seed)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_layer_is_its_method_and_passes_gradcheck_and_gradgradcheck(name):
    method, make, _, kinks = ACTIVATIONS[name]
    x = Tensor(values_away_from(kinks, 0, (3, 5)), requires_grad=True)
    np.testing.assert_array_equal(make()(x).data, method(x).data)
    assert gradcheck(make(), [x])
    assert gradgradcheck(make(), [x])
    assert make()(x.data).shape == (3, 5)  # an array is taken as a constant, as by ReLU


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_keeps_float32_in_forward_and_backward(name):
    method, _, _, kinks = ACTIVATIONS[name]
    x = Tensor(values_away_from(kinks, 1, (2, 3)).astype(np.float32), requires_grad=True)
    out = method(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


KINK_SLOPES = {  # name: (Tensor function, kink points, the first and second derivatives there,
    # PyTorch's: the second is that of the piece whose slope is taken)
    "relu6 at 0 and 6 (as relu at 0)": (Tensor.relu6, [0.0, 6.0], [0.0, 0.0], [0.0, 0.0]),
    "hardswish at -3 and 3 (the flat pieces')": (
        Tensor.hardswish,
        [-3.0, 3.0],
        [0.0, 1.0],
        [0.0, 0.0],
    ),
    "elu at 0 (alpha, the left slope)": (lambda t: t.elu(alpha=0.5), [0.0], [0.5], [0.5]),
}


@pytest.mark.parametrize("name", KINK_SLOPES)
def test_derivative_at_a_kink_is_pytorchs(name):
    fn, points, slopes, _ = KINK_SLOPES[name]
    x = Tensor(points, requires_grad=True)
    fn(x).sum().backward()
    np.testing.assert_array_equal(x.grad, slopes)


@pytest.mark.parametrize("name", KINK_SLOPES)
def test_second_derivative_at_a_kink_is_pytorchs(name):
    fn, points, slopes, second = KINK_SLOPES[name]
    x, v = Tensor(points, requires_grad=True), Tensor(np.ones(len(points)), requires_grad=True)
    (first,) = autograd.grad(fn(x), x, v, create_graph=True)  # v · f'(x)
    np.testing.assert_array_equal(first.data, slopes)
    dx, dv = autograd.grad(first.sum(), [x, v], allow_unused=True)  # dx None: f' constant
    np.testing.assert_array_equal(np.zeros(len(points)) if dx is None else dx.data, second)
    np.testing.assert_array_equal(dv.data, slopes)


@pytest.mark.parametrize("name", ["softplus", "gelu", "gelu tanh", "silu", "elu", "mish"])
def test_smooth_activations_of_large_inputs_are_finite_without_overflow(name):
    method = ACTIVATIONS[name][0]
    x = Tensor([-1000.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = method(x)
        out.sum().backward()
    np.testing.assert_allclose(out.data, [0.0 if name != "elu" else -1.0, 1000.0], atol=1e-300)
    np.testing.assert_allclose(x.grad, [0.0, 1.0], atol=1e-300)


def test_bad_settings_are_errors_naming_the_layer():
    with pytest.raises(ValueError, match="Softplus: beta must be positive, got 0"):
        nn.Softplus(beta=0)
    with pytest.raises(ValueError, match="Softplus: beta must be positive"):
        Tensor([1.0]).softplus(beta=-1.0)
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'erf'"):
        nn.GELU(approximate="erf")
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        Tensor([1.0]).gelu(approximate="fast")


def test_layers_show_their_settings():
    assert repr(nn.Softplus(beta=2.0)) == "Softplus(beta=2.0)"
    assert repr(nn.GELU(approximate="tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.ELU(alpha=0.5)) == "ELU(alpha=0.5)"
    assert repr(nn.Mish()) == "Mish()"


# ------------------------------------------------------------------------- the registry
REGISTERED = {  # registry name: layer class
    "softplus": nn.Softplus,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "relu6": nn.ReLU6,
    "hardswish": nn.Hardswish,
    "mish": nn.Mish,
}


@pytest.mark.parametrize("name", REGISTERED)
def test_each_activation_is_registered_once_with_its_layer(name):
    entry = nn.get_activation(name)
    assert entry.layer is REGISTERED[name]
    assert type(entry.make()) is REGISTERED[name]
    assert nn.activation_of(REGISTERED[name]()) is entry
    assert [e.layer for e in nn.ACTIVATIONS.values()].count(REGISTERED[name]) == 1
    assert entry.dead_below_zero == (name == "relu6")


@pytest.mark.parametrize("name", REGISTERED)
@given(seed=seeds, batch=st.integers(1, 20))
def test_the_reference_agrees_with_autograd_through_each_activation(name, seed, batch):
    rng = np.random.default_rng(seed)
    make = REGISTERED[name]
    model = nn.Sequential(
        nn.Linear(3, 6, rng=rng), make(), nn.Linear(6, 5, rng=rng), make(), nn.Linear(5, 2, rng=rng)
    )
    X, y = rng.uniform(-4, 4, (batch, 3)), rng.uniform(-1, 1, (batch, 2))
    for row in reference.compare(model, X, y):
        assert row.worst_rel <= 1e-12, row


@pytest.mark.parametrize(
    "layer", [nn.Softplus(beta=2.0), nn.GELU(approximate="tanh"), nn.ELU(alpha=0.5)]
)
def test_the_reference_refuses_settings_its_formulas_do_not_have(layer):
    model = nn.Sequential(nn.Linear(2, 3, rng=0), layer, nn.Linear(3, 1, rng=1))
    with pytest.raises(NotAnMLPError, match=rf"layer 1 \({type(layer).__name__}\)"):
        reference.compare(model, np.ones((4, 2)), np.zeros((4, 1)))


@pytest.mark.parametrize("name", REGISTERED)
def test_the_lab_self_check_passes_with_each_activation(name):
    result = check_lab(LabRun.from_roll("102303346", seed=1, epochs=5, activation=name))
    assert result.passed and result.run.config.activation == name


def test_the_recorder_counts_dead_units_of_relu6():
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.ReLU6(), nn.Linear(4, 1, rng=1))
    model[0].weight.data[:] = 0.0
    model[0].bias.data[:] = [-1.0, 1.0, 2.0, 3.0]  # unit 0 is below zero for every example
    recorder = nn.GradientRecorder(model)
    nn.MSELoss()(model(Tensor(np.ones((5, 2)))), Tensor(np.zeros((5, 1)))).backward()
    assert recorder.at_step()["1:ReLU6"]["dead_fraction"] == 0.25
