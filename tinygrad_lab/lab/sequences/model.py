"""The time study's network: one recurrent layer (`nn.RNN` with tanh or ReLU, `nn.LSTM`,
`nn.GRU`) read by a `nn.Linear` head on its last hidden state; and the gradient through time,
‖∂L/∂h_t‖ for every step t, measured with a tensor hook on each step's hidden state."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab import nn
from tinygrad_lab.grad_mode import no_grad
from tinygrad_lab.lab.sequences.data import AddingProblem
from tinygrad_lab.tensor import Tensor

# The cells the study compares, each the layer that makes it.
CELLS = {
    "rnn_tanh": lambda size, rng: nn.RNN(2, size, nonlinearity="tanh", batch_first=True, rng=rng),
    "rnn_relu": lambda size, rng: nn.RNN(2, size, nonlinearity="relu", batch_first=True, rng=rng),
    "lstm": lambda size, rng: nn.LSTM(2, size, batch_first=True, rng=rng),
    "gru": lambda size, rng: nn.GRU(2, size, batch_first=True, rng=rng),
}


class AddingModel(nn.Module):
    """``cell``'s layer over the sequence (batch first), then ``Linear(hidden_size → 1)`` on the
    last step's hidden state h_T: the sum of the two marked values."""

    def __init__(self, cell: str, hidden_size: int, rng: np.random.Generator) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(CELLS)}")
        self.cell = cell
        self.rnn = CELLS[cell](hidden_size, rng)  # its weights drawn first, then the head's
        self.head = nn.Linear(hidden_size, 1, rng=rng)

    def forward(self, x: Any) -> Tensor:
        output, _ = self.rnn(x)
        return self.head(output[:, -1])

    def unroll(self, x: Any) -> tuple[Tensor, tuple[Tensor, ...]]:
        """The prediction and the hidden states h_1 … h_T that made it (each (N, hidden_size),
        the tensors the next step reads: the layer keeps them as ``output.grad_fn.unrolled``,
        so not under ``no_grad``)."""
        output, _ = self.rnn(x)
        return self.head(output[:, -1]), output.grad_fn.unrolled.hidden


def hidden_grad_norms(model: AddingModel, problem: AddingProblem) -> tuple[float, ...]:
    """‖∂L/∂h_t‖ (Frobenius, over the batch) for t = 1 … T, L the MSE on ``problem``: the
    whole gradient reaching h_t, through every later step, caught by a hook on h_t as backward
    passes it. The parameters' ``.grad`` are left as they were."""
    saved = [p.grad for p in model.parameters()]
    prediction, hidden = model.unroll(problem.inputs)
    norms = [0.0] * len(hidden)  # a step no gradient reaches stays 0

    def keep(t: int) -> Any:
        def hook(grad: Tensor) -> None:
            norms[t] = float(np.linalg.norm(grad.data))

        return hook

    handles = [h.register_hook(keep(t)) for t, h in enumerate(hidden)]
    try:
        nn.MSELoss()(prediction, Tensor(problem.targets)).backward()
    finally:
        for handle in handles:
            handle.remove()
        for p, grad in zip(model.parameters(), saved, strict=True):
            p.grad = grad
    return tuple(norms)


def mse_on(model: AddingModel, problem: AddingProblem) -> float:
    """The model's MSE on ``problem``, without a graph."""
    with no_grad():
        return nn.MSELoss()(model(problem.inputs), Tensor(problem.targets)).item()
