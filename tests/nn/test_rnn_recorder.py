"""The gradient recorder through time: for a recurrent layer, ‖dL/dh_t‖ at every time step,
against the same sequence run step by step with the layer's cell and ``retain_grad`` on each h_t
(the cells are checked against NumPy in test_rnn.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn, no_grad

CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}


class Model(nn.Module):
    """A recurrent layer and a linear read-out of every step's output."""

    def __init__(self, mode: str, input_size: int, hidden: int, layers: int, seed: int) -> None:
        super().__init__()
        self.rnn = getattr(nn, mode)(input_size, hidden, layers, rng=seed)
        self.head = nn.Linear(hidden, 1, rng=seed + 1)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output)


def step_by_step_norms(model: Model, mode: str, x: np.ndarray, weights: np.ndarray) -> list:
    """‖dL/dh_t‖ of the top layer, the sequence run through cells in a Python loop."""
    layers, state = model.rnn.num_layers, model.rnn.state_dict()
    cells = []
    for k in range(layers):
        cell = CELLS[mode](model.rnn.input_size if k == 0 else model.rnn.hidden_size, 3)
        cell.load_state_dict({name.removesuffix(f"_l{k}"): state[name] for name in state
                              if name.endswith(f"_l{k}")})  # fmt: skip
        cells.append(cell)
    sequence = [Tensor(x_t) for x_t in x]
    for cell in cells:
        h = c = None
        outputs = []
        for x_t in sequence:
            if mode == "LSTM":
                h, c = cell(x_t, None if h is None else (h, c))
            else:
                h = cell(x_t, h)
            outputs.append(h.retain_grad())
        sequence = outputs
    with no_grad():
        model.head.weight.grad = None
    loss = sum(((model.head(h) * Tensor(w)).sum() for h, w in zip(sequence, weights, strict=True)),
               Tensor(0.0))  # fmt: skip
    loss.backward()
    return [np.linalg.norm(h.grad) for h in sequence]


@settings(max_examples=20, deadline=None)
@given(
    mode=st.sampled_from(["RNN", "LSTM", "GRU"]),
    layers=st.integers(1, 2),
    length=st.integers(1, 6),
    batch=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_time_grad_norms_are_the_norms_of_dl_dh_t_at_every_step(mode, layers, length, batch, seed):
    rng = np.random.default_rng(seed)
    model = Model(mode, 2, 3, layers, seed)
    x = rng.standard_normal((length, batch, 2))
    weights = rng.standard_normal((length, batch, 1))
    recorder = nn.GradientRecorder(model)
    (model(x) * Tensor(weights)).sum().backward()
    norms = recorder.time_grad_norms()
    assert list(norms) == ["0:" + mode]
    (label,) = norms
    assert label.position == 0 and label.type == mode
    expected = step_by_step_norms(model, mode, x, weights)
    np.testing.assert_allclose(norms[label], expected, rtol=1e-10, atol=1e-14)
    # the layer is recorded by its output sequence, as any layer by its output
    assert recorder.at_step()[label]["output_grad_norm"] > 0


def test_a_gradient_reaching_only_the_last_step_fades_back_through_time() -> None:
    """Read-out of the last step only: dL/dh_t reaches earlier steps through the recurrence
    alone, and for a tanh RNN of small weights it shrinks step by step (the vanishing
    gradient), while each norm is still the step-by-step one."""
    rnn = nn.RNN(2, 4, rng=0)
    with no_grad():
        rnn.weight_hh_l0 *= 0.3
    recorder = nn.GradientRecorder(rnn)
    output, _ = rnn(np.random.default_rng(1).standard_normal((8, 2, 2)))
    output[-1].sum().backward()
    (norms,) = recorder.time_grad_norms().values()
    assert np.all(np.diff(norms) > 0), norms  # growing towards the last step
    assert norms[0] / norms[-1] < 1e-2


def test_time_grad_norms_are_kept_per_step_and_only_for_recorded_steps() -> None:
    model = Model("GRU", 2, 3, 1, 0)
    recorder = nn.GradientRecorder(model, every=2)
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    for _ in range(3):
        model(x).sum().backward()
    assert recorder.step == 3
    assert set(recorder.time_grad_norms(1)) == {"0:GRU"}
    assert recorder.time_grad_norms(2) == {}  # not recorded (every=2)
    assert set(recorder.time_grad_norms()) == {"0:GRU"}  # the last step, 3
    first, last = recorder.time_grad_norms(1)["0:GRU"], recorder.time_grad_norms(3)["0:GRU"]
    assert first.shape == last.shape == (4,)
    first[0] = -1.0  # a copy: the recorder's stays
    assert recorder.time_grad_norms(1)["0:GRU"][0] != -1.0
    model.eval()
    model(x).sum().backward()  # no step in eval mode
    assert recorder.step == 3


def test_a_forward_that_raised_leaves_no_time_norms() -> None:
    model = Model("LSTM", 2, 3, 1, 0)
    recorder = nn.GradientRecorder(model)
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    model(x).sum().backward()
    model.head = nn.Linear(5, 1)  # the next forward fails in the head, after the LSTM ran
    with pytest.raises(ValueError, match="Linear"):
        model(x)
    model.head = nn.Linear(3, 1)
    model(x).sum().backward()
    assert recorder.step == 2
    assert list(recorder.time_grad_norms(2)) == ["0:LSTM"]
    assert list(recorder.time_grad_norms(1)) == ["0:LSTM"]
    assert len(recorder._time_norms) == 2  # the failed step's array was dropped, not kept
