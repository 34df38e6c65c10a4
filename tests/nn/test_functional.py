"""`tinygrad_lab.nn.functional` (PyTorch's F): each function gives what its layer or Tensor method
gives (values and gradients), the new ones (linear's PyTorch layout, pad, conv2d, the loss
reductions) match NumPy or a plain loop and central finite differences, and what is not
supported yet is a ValueError naming the option."""

import numpy as np
import pytest
from conv_helpers import conv_cases, loop_conv2d
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_checks import check

import tinygrad_lab.nn.functional as F
from tinygrad_lab import Tensor, nn, ops

seeds = st.integers(0, 2**32 - 1)


def same_result(a, b, x: np.ndarray) -> None:
    """``a`` and ``b`` give equal values and equal gradients on the same input."""
    results = []
    for fn in (a, b):
        t = Tensor(x.copy(), requires_grad=True)
        out = fn(t)
        out.backward(np.ones(out.shape))
        results.append((out.data, t.grad))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


ACTIVATIONS = {  # F function: what it is
    "relu": (F.relu, nn.ReLU()),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), nn.LeakyReLU(0.2)),
    "sigmoid": (F.sigmoid, nn.Sigmoid()),
    "tanh": (F.tanh, nn.Tanh()),
    "softplus": (lambda t: F.softplus(t, beta=2.0), nn.Softplus(beta=2.0)),
    "gelu": (F.gelu, nn.GELU()),
    "gelu tanh": (lambda t: F.gelu(t, approximate="tanh"), nn.GELU(approximate="tanh")),
    "silu": (F.silu, nn.SiLU()),
    "elu": (lambda t: F.elu(t, alpha=0.5), nn.ELU(alpha=0.5)),
    "relu6": (F.relu6, nn.ReLU6()),
    "hardswish": (F.hardswish, nn.Hardswish()),
    "mish": (F.mish, nn.Mish()),
    "softmax": (lambda t: F.softmax(t, dim=0), lambda t: t.softmax(axis=0)),
    "log_softmax": (F.log_softmax, lambda t: t.log_softmax(axis=-1)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_each_functional_activation_is_its_layer(name):
    function, layer = ACTIVATIONS[name]
    same_result(function, layer, np.random.default_rng(0).uniform(-7, 7, (4, 5)))
    assert isinstance(function(np.ones(3)), Tensor)  # arrays are taken as constants


# ------------------------------------------------------------------------- linear
@given(
    batch=st.integers(1, 4),
    features=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    bias=st.booleans(),
    seed=seeds,
)
def test_linear_is_x_times_the_transposed_pytorch_weight_plus_bias(batch, features, bias, seed):
    rng = np.random.default_rng(seed)
    (n_in, n_out) = features
    x, w, b = rng.normal(size=(batch, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
    if bias:
        check(F.linear, lambda x, w, b: x @ w.T + b, x, w, b, seed=seed)
    else:
        check(F.linear, lambda x, w: x @ w.T, x, w, seed=seed)


def test_linear_with_an_nn_linear_layers_weight_needs_its_transpose():
    layer = nn.Linear(3, 2, rng=0)
    x = Tensor(np.random.default_rng(1).normal(size=(5, 3)))
    np.testing.assert_array_equal(F.linear(x, layer.weight.T, layer.bias).data, layer(x).data)
    with pytest.raises(ValueError, match=r"linear: weight must be \(out_features, in_features\)"):
        F.linear(x, np.ones(3))


# ------------------------------------------------------------------------- conv2d
@given(case=conv_cases())
def test_conv2d_matches_a_plain_loop_and_finite_differences(case):
    """Strides, paddings and dilations as ints or pairs, groups; sides floored, as PyTorch's."""
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=(case["batch"], case["in_channels"], *case["size"]))
    shape = (case["out_channels"], case["in_channels"] // case["groups"], *case["kernel"])
    w = rng.normal(size=shape)
    b = rng.normal(size=case["out_channels"])
    settings = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    check(
        lambda x, w, b: F.conv2d(x, w, b, **settings),
        lambda x, w, b: loop_conv2d(x, w, b, **settings),
        x,
        w,
        b,
        seed=case["seed"],
    )


def test_conv2d_without_bias_is_nn_conv2d_without_bias():
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False, rng=0)
    x = np.random.default_rng(1).normal(size=(1, 2, 5, 5))
    same_result(lambda t: F.conv2d(t, layer.weight, stride=2, padding=1), layer, x)


# ------------------------------------------------------------------------- pad
@st.composite
def pad_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    pairs = draw(st.integers(1, len(shape)))
    return shape, tuple(draw(st.integers(0, 2)) for _ in range(2 * pairs))


def numpy_pad(a, spec, value):
    """PyTorch's order: the first pair pads the last axis, the next pair the one before it."""
    widths = [(0, 0)] * a.ndim
    for k in range(len(spec) // 2):
        widths[a.ndim - 1 - k] = (spec[2 * k], spec[2 * k + 1])
    return np.pad(a, widths, constant_values=value)


@given(case=pad_cases(), value=st.sampled_from([0.0, -1.5]), seed=seeds)
def test_pad_matches_numpy_in_pytorchs_order_and_finite_differences(case, value, seed):
    shape, spec = case
    x = np.random.default_rng(seed).normal(size=shape)
    check(lambda t: F.pad(t, spec, value=value), lambda a: numpy_pad(a, spec, value), x, seed=seed)


def test_pad_errors_name_what_is_wrong():
    x = np.ones((2, 3))
    for spec in ((1,), (1, 1, 1, 1, 1, 1), (-1, 1)):
        with pytest.raises(ValueError, match=r"pad: pad .* must be pairs of whole numbers >= 0"):
            F.pad(x, spec)
    with pytest.raises(ValueError, match=r"pad: mode='reflect' is not supported yet"):
        F.pad(x, (1, 1), mode="reflect")
    with pytest.raises(ValueError, match=r"Pad: widths \(\(1, 1\),\) must be one .* pair >= 0"):
        ops.Pad.apply(x, widths=[(1, 1)])  # the op itself: a pair for every axis


# ------------------------------------------------------------------------- pooling and the rest
@pytest.mark.parametrize(
    ("function", "layer"),
    [
        (lambda t: F.max_pool2d(t, 2), nn.MaxPool2d(2)),
        (lambda t: F.max_pool2d(t, (3, 2), 1, (1, 0)), nn.MaxPool2d((3, 2), 1, (1, 0))),
        (lambda t: F.max_pool2d(t, 3, 2, 1, 2, True), nn.MaxPool2d(3, 2, 1, 2, ceil_mode=True)),
        (lambda t: F.avg_pool2d(t, 2, stride=2), nn.AvgPool2d(2)),
        (lambda t: F.avg_pool2d(t, 3, stride=1, padding=1), nn.AvgPool2d(3, 1, 1)),
        (lambda t: F.avg_pool2d(t, 2, 2, 1, True, False), nn.AvgPool2d(2, 2, 1, True, False)),
        (lambda t: F.avg_pool2d(t, 3, divisor_override=2), nn.AvgPool2d(3, divisor_override=2)),
    ],
)
def test_pooling_functions_are_their_layers(function, layer):
    same_result(function, layer, np.random.default_rng(2).normal(size=(2, 3, 5, 5)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: F.max_pool2d(x, 2, return_indices=True), r"return_indices=True is not"),
        (lambda x: F.max_pool2d(x, 0), r"max_pool2d: kernel_size must be an integer >= 1"),
        (lambda x: F.max_pool2d(x, 2, dilation=0), r"max_pool2d: dilation must be an integer"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=0), r"AvgPool2d: divisor_override must"),
        (lambda x: F.max_pool2d(x, 5), r"MaxPool2d: the input's height .* input size 4 is too"),
    ],
)
def test_pooling_errors_name_the_function_and_option(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.ones((1, 1, 4, 4)))


def test_dropout_is_nn_dropout_with_the_same_generator():
    x = np.random.default_rng(3).normal(size=(4, 6))
    same_result(
        lambda t: F.dropout(t, 0.3, rng=np.random.default_rng(5)), nn.Dropout(0.3, rng=5), x
    )
    t = Tensor(x, requires_grad=True)
    assert F.dropout(t, 0.3, training=False) is t and F.dropout(t, 0.0, rng=0) is t
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\]"):
        F.dropout(t, 1.5)
    with pytest.raises(ValueError, match=r"dropout: inplace=True is not supported yet"):
        F.dropout(t, inplace=True)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_is_nn_batchnorm_and_updates_the_running_statistics_alike(training):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 3, 2, 2))
    layer = nn.BatchNorm2d(3, momentum=0.2)
    layer.weight.data[:], layer.bias.data[:] = rng.normal(size=3), rng.normal(size=3)
    layer.train(training)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()

    def functional(t):
        return F.batch_norm(t, mean, var, layer.weight, layer.bias, training, momentum=0.2)

    same_result(functional, layer, x)  # each ran once: the running statistics moved once
    np.testing.assert_array_equal(mean, layer.running_mean)
    np.testing.assert_array_equal(var, layer.running_var)


def test_batch_norm_weight_and_bias_default_to_one_and_zero():
    x = np.random.default_rng(6).normal(size=(6, 2))
    out = F.batch_norm(x, None, None, training=True).data
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-12)
    with pytest.raises(ValueError, match=r"training=False\) needs running_mean"):
        F.batch_norm(x, None, None)
    running = Tensor(np.zeros(2))
    F.batch_norm(x, running, np.ones(2), training=True)
    np.testing.assert_allclose(running.data, 0.1 * x.mean(0))  # a Tensor's data, in place


# ------------------------------------------------------------------------- losses
REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}


@pytest.mark.parametrize("reduction", REDUCE)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds)
def test_mse_loss_reductions_match_numpy_and_finite_differences(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    prediction, target = rng.normal(size=shape), rng.normal(size=shape)
    check(
        lambda p, t: F.mse_loss(p, t, reduction=reduction),
        lambda p, t: REDUCE[reduction]((p - t) ** 2),
        prediction,
        target,
        seed=seed,
    )


def numpy_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels.astype(int)]


@pytest.mark.parametrize("reduction", REDUCE)
@given(batch=st.integers(1, 5), classes=st.integers(1, 4), seed=seeds)
def test_cross_entropy_reductions_match_numpy_and_finite_differences(
    reduction, batch, classes, seed
):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(batch, classes)) * 3
    labels = rng.integers(0, classes, batch).astype(np.float64)
    check(
        lambda z: F.cross_entropy(z, labels, reduction=reduction),
        lambda z: REDUCE[reduction](numpy_cross_entropy(z, labels)),
        logits,
        seed=seed,
    )


def test_mean_losses_are_the_loss_layers():
    rng = np.random.default_rng(7)
    prediction, target = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    same_result(lambda p: F.mse_loss(p, target), lambda p: nn.MSELoss()(p, target), prediction)
    labels = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    cross = nn.CrossEntropyLoss()
    same_result(lambda z: F.cross_entropy(z, labels), lambda z: cross(z, labels), prediction)


@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_loss_errors_name_the_function(reduction):
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(3,\) and target shape \(3, 1\)"):
        F.mse_loss(np.ones(3), np.ones((3, 1)), reduction=reduction)
    with pytest.raises(ValueError, match=r"cross_entropy: target 2 at position 1 is not a class"):
        F.cross_entropy(np.ones((2, 2)), [0.0, 2.0], reduction=reduction)
    with pytest.raises(ValueError, match=r"cross_entropy: input must be \(N, C\) and target"):
        F.cross_entropy(np.ones(2), [0.0, 1.0], reduction=reduction)
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\)"):
        F.mse_loss(np.ones(3), np.ones(3), reduction="avg")
