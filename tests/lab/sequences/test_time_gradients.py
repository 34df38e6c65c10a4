"""‖∂L/∂h_t‖ as the time study measures it (a hook on each step's hidden state) against
independent computations: backpropagation through time written out in NumPy for the vanilla
RNN, the product of W_hhᵀ powers where a ReLU RNN is linear, and central finite differences
on h_t for the LSTM and the GRU (each step's equations written out in NumPy here)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab.lab.sequences.data import adding_problem
from tinygrad_lab.lab.sequences.model import AddingModel, hidden_grad_norms
from tinygrad_lab.lab.sequences.study import SequenceRun

sizes = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32 - 1),
        "hidden": st.integers(1, 6),
        "batch": st.integers(1, 5),
        "length": st.integers(2, 9),
    }
)


def _setup(cell, seed, hidden, batch, length):
    rng = np.random.default_rng(seed)
    model = AddingModel(cell, hidden, rng)
    return model, adding_problem(rng, batch, length)


def _weights(model):
    rnn = model.rnn
    return (
        rnn.weight_ih_l0.data,
        rnn.weight_hh_l0.data,
        rnn.bias_ih_l0.data + rnn.bias_hh_l0.data,
        model.head.weight.data,  # (hidden, 1): the course's (in, out) layout
        model.head.bias.data,
    )


def _loss_grad(h_last, w_head, b_head, targets):
    """dL/dh_T of L = mean((h_T w + b − y)²)."""
    prediction = h_last @ w_head + b_head
    return 2 * (prediction - targets) / len(targets) @ w_head.T


@given(sizes)
def test_the_tanh_rnn_hooks_match_backpropagation_through_time_written_in_numpy(case):
    model, problem = _setup("rnn_tanh", **case)
    w_ih, w_hh, b, w_head, b_head = _weights(model)
    h, states = np.zeros((case["batch"], case["hidden"])), []
    for t in range(case["length"]):  # h_t = tanh(W_ih x_t + W_hh h_{t-1} + b)
        h = np.tanh(problem.inputs[:, t] @ w_ih.T + h @ w_hh.T + b)
        states.append(h)
    grad, expected = _loss_grad(states[-1], w_head, b_head, problem.targets), []
    for h in reversed(states):  # dL/dh_{t-1} = (dL/dh_t ⊙ (1 − h_t²)) W_hh
        expected.append(np.linalg.norm(grad))
        grad = (grad * (1 - h**2)) @ w_hh
    np.testing.assert_allclose(hidden_grad_norms(model, problem), expected[::-1], rtol=1e-9)


@given(sizes)
def test_where_a_relu_rnn_is_linear_the_ratio_is_a_product_of_w_hh_powers(case):
    model, problem = _setup("rnn_relu", **case)
    rnn, rng = model.rnn, np.random.default_rng(case["seed"] + 1)
    for p in rnn.parameters():  # every pre-activation positive: ReLU is the identity
        p.data[...] = rng.uniform(0.01, 0.5, p.shape)
    w_ih, w_hh, b, w_head, b_head = _weights(model)
    h = np.zeros((case["batch"], case["hidden"]))
    for t in range(case["length"]):
        h = problem.inputs[:, t] @ w_ih.T + h @ w_hh.T + b
    grad = _loss_grad(h, w_head, b_head, problem.targets)
    # h_t = W_hh h_{t-1} + …, so dL/dh_t = dL/dh_T · W_hh^(T−t) (rows: the batch)
    expected = [
        np.linalg.norm(grad @ np.linalg.matrix_power(w_hh, case["length"] - t))
        for t in range(1, case["length"] + 1)
    ]
    norms = hidden_grad_norms(model, problem)
    np.testing.assert_allclose(norms, expected, rtol=1e-9)
    run = SequenceRun(0, (), None, 0.1, 0.2, norms, norms)
    assert run.ratio == pytest.approx(expected[0] / expected[-1], rel=1e-9)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _lstm_step(x, h, c, w_ih, w_hh, b):
    """PyTorch's LSTM: gates i, f, g, o; c' = f c + i g; h' = o tanh(c')."""
    i, f, g, o = np.split(x @ w_ih.T + h @ w_hh.T + b, 4, axis=1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def _gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's GRU: gates r, z, n; n = tanh(W_in x + b_in + r (W_hn h + b_hn))."""
    ir, iz, in_ = np.split(x @ w_ih.T + b_ih, 3, axis=1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
    r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
    n = np.tanh(in_ + r * hn)
    return (1 - z) * n + z * h


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@given(case=sizes)
def test_gated_cells_hooks_match_finite_differences_on_each_hidden_state(cell, case):
    model, problem = _setup(cell, **case)
    rnn = model.rnn
    w_ih, w_hh = rnn.weight_ih_l0.data, rnn.weight_hh_l0.data
    b_ih, b_hh = rnn.bias_ih_l0.data, rnn.bias_hh_l0.data
    w_head, b_head = model.head.weight.data, model.head.bias.data
    x, length = problem.inputs, case["length"]

    def loss_from(t, h, c):
        """L, running the steps after t from the state (h_t, c_t)."""
        for s in range(t + 1, length):
            if cell == "lstm":
                h, c = _lstm_step(x[:, s], h, c, w_ih, w_hh, b_ih + b_hh)
            else:
                h = _gru_step(x[:, s], h, w_ih, w_hh, b_ih, b_hh)
        return np.mean((h @ w_head + b_head - problem.targets) ** 2)

    h = c = np.zeros((case["batch"], case["hidden"]))
    expected = []
    for t in range(length):
        if cell == "lstm":
            h, c = _lstm_step(x[:, t], h, c, w_ih, w_hh, b_ih + b_hh)
        else:
            h = _gru_step(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        grad, eps = np.zeros_like(h), 1e-6
        for k in np.ndindex(h.shape):  # central differences, c_t held (it is its own state)
            step = np.zeros_like(h)
            step[k] = eps
            grad[k] = (loss_from(t, h + step, c) - loss_from(t, h - step, c)) / (2 * eps)
        expected.append(np.linalg.norm(grad))
    np.testing.assert_allclose(hidden_grad_norms(model, problem), expected, rtol=1e-5, atol=1e-9)


def test_measuring_leaves_the_parameters_gradients_as_they_were():
    model, problem = _setup("gru", seed=3, hidden=4, batch=3, length=5)
    kept = np.full(model.head.weight.shape, 7.0)
    model.head.weight.grad = kept
    hidden_grad_norms(model, problem)
    assert model.head.weight.grad is kept
    assert all(p.grad is None for p in model.rnn.parameters())


@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_the_hooks_agree_with_the_gradient_recorders_norms_through_time(cell):
    from tinygrad_lab import Tensor, nn

    model, problem = _setup(cell, seed=5, hidden=4, batch=3, length=7)
    recorder = nn.GradientRecorder(model)
    nn.MSELoss()(model(problem.inputs), Tensor(problem.targets)).backward()
    (recorded,) = recorder.time_grad_norms().values()
    np.testing.assert_allclose(hidden_grad_norms(model, problem), recorded, rtol=1e-12)


def test_an_unknown_cell_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown cell 'elman'; expected one of rnn_tanh"):
        AddingModel("elman", 3, np.random.default_rng(0))
