"""Autograd against the course notebook's matrix-form backprop, and reference.py against the
notebook's own code (copied below as the oracle)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from notebook_oracle import notebook, notebook_training

from tinygrad_lab import Tensor, nn, optim, reference

ACTIVATION_LAYERS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


# ------------------------------------------------------------------------------- the notebook
def notebook_init(layers, init_range, rng):
    """Cell [67], drawing from ``rng`` where the notebook draws from ``np.random``."""
    weights = []
    biases = []
    for i in range(len(layers) - 1):
        W = rng.uniform(-init_range, init_range, (layers[i], layers[i + 1]))
        b_vec = np.zeros((1, layers[i + 1]))
        weights.append(W)
        biases.append(b_vec)
    return weights, biases


# ------------------------------------------------------------------------------- helpers
@st.composite
def mlps(draw, max_batch=50, max_init=1.0, scales=(0.1, 1.0, 3.0)):
    """A random MLP (depth 1–10 hidden layers, widths 1–20), data and activation."""
    hidden = draw(st.lists(st.integers(1, 20), min_size=1, max_size=10))
    sizes = [draw(st.integers(1, 5)), *hidden, 1]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    init_range = draw(st.floats(0.05, max_init))
    weights, biases = reference.init_mlp(sizes, init_range, rng)
    biases = [rng.uniform(-0.5, 0.5, b.shape) for b in biases]  # non-zero: db must be checked
    batch = draw(st.integers(1, max_batch))
    X = rng.uniform(-2, 2, (batch, sizes[0])) * draw(st.sampled_from(scales))
    y = rng.standard_normal((batch, 1))
    activation = draw(st.sampled_from(sorted(ACTIVATION_LAYERS)))
    return weights, biases, X, y, activation


def sequential_from(weights, biases, activation):
    """nn.Linear + activation layers holding copies of the reference's weights."""
    layers = []
    for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
        linear = nn.Linear(*W.shape)
        linear.weight.data[...] = W
        linear.bias.data[...] = b[0]
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(ACTIVATION_LAYERS[activation]())
    return nn.Sequential(*layers)


def assert_close_to_largest(actual, expected, rtol, what):
    """Max error at most ``rtol`` times the largest entry of ``expected`` (exact when zero)."""
    error = np.max(np.abs(actual - expected))
    assert error <= rtol * np.max(np.abs(expected)), f"{what}: error {error:.3g}"


def copies(arrays):
    return [a.copy() for a in arrays]


# ---------------------------------------------------------------------- autograd = reference
@given(case=mlps())
def test_autograd_gradients_equal_the_matrix_form_reference(case):
    weights, biases, X, y, activation = case
    model = sequential_from(weights, biases, activation)
    prediction = model(Tensor(X))
    loss = nn.MSELoss()(prediction, Tensor(y))
    loss.backward()
    activations, Zs = reference.forward(X, weights, biases, activation)
    grads_W, grads_b, _ = reference.backward(activations, Zs, y, weights, activation)
    assert loss.item() == pytest.approx(reference.mse(activations[-1], y), rel=1e-12)
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    assert len(linears) == len(grads_W)
    for i, layer in enumerate(linears):
        assert layer.weight.grad.shape == grads_W[i].shape
        assert_close_to_largest(layer.weight.grad, grads_W[i], 1e-12, f"grads_W[{i}]")
        assert_close_to_largest(layer.bias.grad, grads_b[i][0], 1e-12, f"grads_b[{i}]")


@settings(max_examples=8)  # each example is two few-hundred-epoch trainings
@given(
    case=mlps(max_batch=20, max_init=0.5, scales=(0.1, 1.0)), learning_rate=st.floats(1e-3, 0.02)
)
def test_gradient_descent_gives_the_reference_loss_curve(case, learning_rate):
    weights, biases, X, y, activation = case
    epochs = 200
    model = sequential_from(weights, biases, activation)
    with np.errstate(over="ignore", invalid="ignore"):
        losses, _, _ = reference.train(
            X, y, copies(weights), copies(biases), learning_rate, epochs, activation
        )
    optimizer = optim.SGD(model.parameters(), lr=learning_rate)
    loss_fn, inputs, targets = nn.MSELoss(), Tensor(X), Tensor(y)
    curve = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        curve.append(loss.item())
        loss.backward()
        optimizer.step()
    assume(np.all(np.isfinite(losses)))  # a diverging run has no curve to compare
    # within 1e-10 of each loss, or of the curve's scale once the loss nears 0: there the
    # residual ŷ - y cancels, and its rounding is no longer small relative to the loss
    np.testing.assert_allclose(curve, losses, rtol=1e-10, atol=1e-10 * losses[0])


# ---------------------------------------------------------------------- reference = notebook
@given(
    seed=st.integers(0, 2**32 - 1),
    hidden=st.lists(st.integers(1, 12), min_size=1, max_size=8),
    batch=st.integers(1, 40),
)
def test_reference_forward_and_backward_are_the_notebook_code(seed, hidden, batch):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, (batch, 3))
    y = np.sin(X[:, 0]).reshape(-1, 1)
    weights, biases = notebook_init([3, *hidden, 1], 1 / 7, rng)
    biases = [b + rng.uniform(-0.5, 0.5, b.shape) for b in biases]
    forward, backward = notebook(weights, biases)
    activations, Zs = forward(X)
    grads_W, grads_b = backward(activations, Zs, y)
    ref_activations, ref_Zs = reference.forward(X, weights, biases, "relu")
    ref_W, ref_b, _ = reference.backward(ref_activations, ref_Zs, y, weights, "relu")
    for ours, theirs in [
        (ref_activations, activations),
        (ref_Zs, Zs),
        (ref_W, grads_W),
        (ref_b, grads_b),
    ]:
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)


def test_reference_init_draws_what_the_notebook_draws():
    sizes = [3, 12, 12, 12, 12, 12, 1]
    weights, biases = reference.init_mlp(sizes, 1 / 7, np.random.RandomState(346))
    expected_W, expected_b = notebook_init(sizes, 1 / 7, np.random.RandomState(346))
    for a, b in zip(weights + biases, expected_W + expected_b, strict=True):
        np.testing.assert_array_equal(a, b)


def test_reference_training_with_a_structural_break_is_the_notebook_run():
    """Cells [65]–[71]: 400 epochs, three layers inserted before the output, 400 more."""
    rng = np.random.RandomState(102303346 % 1000)
    X = rng.uniform(-2, 2, (400, 3))
    y = (np.sin(X[:, 0]) + 0.5 * (X[:, 1] ** 2) - 0.8 * X[:, 2]).reshape(-1, 1)
    sizes = [3] + [12] * 5 + [1]
    weights, biases = notebook_init(sizes, 1 / 7, rng)
    ref_weights, ref_biases = copies(weights), copies(biases)
    runs = []
    for _run in range(2):
        expected = notebook_training(X, y, weights, biases, 0.008, 400)
        actual = reference.train(X, y, ref_weights, ref_biases, 0.008, 400, "relu")
        runs.append((expected, actual))
        for _ in range(3):
            W = rng.uniform(-1 / 7, 1 / 7, (12, 12))
            for ws, bs in ((weights, biases), (ref_weights, ref_biases)):
                ws.insert(-1, W.copy())
                bs.insert(-1, np.zeros((1, 12)))
    for (losses, grads_W, grads_b), (ref_losses, ref_W, ref_b) in runs:
        assert ref_losses == [float(loss) for loss in losses]
        for a, b in zip(ref_W + ref_b, grads_W + grads_b, strict=True):
            np.testing.assert_array_equal(a, b)
    assert len(runs[1][1][1]) == len(sizes) - 1 + 3


def test_reference_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'swish'; expected one of"):
        reference.forward(np.ones((1, 1)), [np.ones((1, 1))] * 2, [np.zeros((1, 1))] * 2, "swish")
