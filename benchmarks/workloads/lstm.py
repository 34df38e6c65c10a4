"""W9: one training step of ``nn.LSTM(32, 64)`` on a batch of 64 sequences of length 50: forward,
the mean squared error of the output sequence against a target sequence, backward through time,
and an Adam step (lr 1e-3), in float64 and in float32.

Contenders: the LSTM and its backward through time written out in NumPy (the input projection
of every step in one matmul before the loop, W_ih's gradient in one after it), tinygrad_lab's
``nn.LSTM`` with ``optim.Adam`` as a user writes the loop, and PyTorch's ``nn.LSTM`` with
``torch.optim.Adam`` on the same thread. All start from the same weights, drawn in PyTorch's
layout, and see the same data; the result every contender must agree on is the last loss.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tinygrad_lab import Tensor, nn, optim

from .common import Contender, Target, TimingWorkload, optional_torch

DATA_SEED, WEIGHT_SEED = 0, 1
LEARNING_RATE = 1e-3
BETAS, EPS = (0.9, 0.999), 1e-8
MAX_TORCH_RATIO = 1.5  # the target: tinygrad_lab at most this many times PyTorch's time
FLOAT32_TOLERANCE = 1e-4  # a float32 loss against the float64 reference's, relative


@dataclasses.dataclass
class Spec:
    x: np.ndarray  # (L, N, input_size)
    y: np.ndarray  # (L, N, hidden_size), the target sequence
    weights: dict[str, np.ndarray]  # PyTorch's names and layout: weight_ih_l0, ...

    def cast(self, dtype: Any) -> Spec:
        return Spec(
            self.x.astype(dtype),
            self.y.astype(dtype),
            {k: v.astype(dtype) for k, v in self.weights.items()},
        )


def make_spec(length: int, batch: int, input_size: int, hidden_size: int) -> Spec:
    data = np.random.default_rng(DATA_SEED)
    x = data.standard_normal((length, batch, input_size))
    y = 0.5 * data.standard_normal((length, batch, hidden_size))
    model = nn.LSTM(input_size, hidden_size, rng=WEIGHT_SEED)  # PyTorch's U(-1/√H, 1/√H)
    return Spec(x, y, model.state_dict())


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


class NumpyLSTM:
    """The LSTM, its backward through time and Adam, by hand (gates i, f, g, o)."""

    def __init__(self, spec: Spec) -> None:
        self.x, self.y = spec.x, spec.y
        self.params = {k: v.copy() for k, v in spec.weights.items()}
        self.m = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.t, self.loss = 0, float("nan")

    def _gradients(self) -> dict[str, np.ndarray]:
        p, x, y = self.params, self.x, self.y
        length, batch, _ = x.shape
        size = p["weight_hh_l0"].shape[1]
        w_hh_t = p["weight_hh_l0"].T
        # the input's part of every step's gates at once: (L, N, 4H)
        projected = x @ p["weight_ih_l0"].T + (p["bias_ih_l0"] + p["bias_hh_l0"])
        h = np.zeros((length + 1, batch, size), x.dtype)  # h[t + 1] is h_t; h[0] = 0
        c = np.zeros((length + 1, batch, size), x.dtype)
        gates = np.empty((length, batch, 4 * size), x.dtype)  # i, f, g, o after σ / tanh
        tanh_c = np.empty((length, batch, size), x.dtype)
        for t in range(length):
            z = projected[t] + h[t] @ w_hh_t
            a = gates[t]
            a[:, : 2 * size] = _sigmoid(z[:, : 2 * size])
            a[:, 2 * size : 3 * size] = np.tanh(z[:, 2 * size : 3 * size])
            a[:, 3 * size :] = _sigmoid(z[:, 3 * size :])
            i, f, g, o = np.split(a, 4, axis=1)
            c[t + 1] = f * c[t] + i * g
            tanh_c[t] = np.tanh(c[t + 1])
            h[t + 1] = o * tanh_c[t]
        error = h[1:] - y
        self.loss = float(np.mean(error * error))
        dh_out = 2 * error / error.size
        dz = np.empty_like(gates)
        dh_next = np.zeros((batch, size), x.dtype)
        dc_next = np.zeros((batch, size), x.dtype)
        for t in reversed(range(length)):
            i, f, g, o = np.split(gates[t], 4, axis=1)
            dh = dh_out[t] + dh_next
            dc = dc_next + dh * o * (1 - tanh_c[t] * tanh_c[t])
            d = dz[t]
            d[:, :size] = dc * g * i * (1 - i)  # through i = σ(z_i)
            d[:, size : 2 * size] = dc * c[t] * f * (1 - f)  # f = σ(z_f)
            d[:, 2 * size : 3 * size] = dc * i * (1 - g * g)  # g = tanh(z_g)
            d[:, 3 * size :] = dh * tanh_c[t] * o * (1 - o)  # o = σ(z_o)
            dc_next = dc * f
            dh_next = d @ p["weight_hh_l0"]
        flat_dz = dz.reshape(-1, 4 * size)
        db = flat_dz.sum(axis=0)
        return {
            "weight_ih_l0": flat_dz.T @ x.reshape(-1, x.shape[2]),
            "weight_hh_l0": flat_dz.T @ h[:-1].reshape(-1, size),
            "bias_ih_l0": db,
            "bias_hh_l0": db.copy(),
        }

    def run(self, units: int) -> None:
        (b1, b2), lr = BETAS, LEARNING_RATE
        for _ in range(units):
            grads = self._gradients()
            self.t += 1
            for name, grad in grads.items():  # Adam as torch.optim.Adam (and optim.Adam)
                m, v = self.m[name], self.v[name]
                m *= b1
                m += (1 - b1) * grad
                v *= b2
                v += (grad * grad) * (1 - b2)
                denominator = np.sqrt(v) / np.sqrt(1 - b2**self.t) + EPS
                self.params[name] -= (lr / (1 - b1**self.t)) * (m / denominator)

    def result(self) -> float:
        return self.loss


class LabLSTM:
    """tinygrad_lab as a user writes it: nn.LSTM, nn.MSELoss, optim.Adam, loss.item()."""

    def __init__(self, spec: Spec) -> None:
        dtype = spec.x.dtype
        _, _, input_size = spec.x.shape
        self.model = nn.LSTM(input_size, spec.y.shape[2], dtype=dtype)
        self.model.load_state_dict(spec.weights)
        self.optimizer = optim.Adam(self.model.parameters(), lr=LEARNING_RATE, betas=BETAS)
        self.loss_fn = nn.MSELoss()
        self.x, self.y, self.loss = Tensor(spec.x), Tensor(spec.y), float("nan")

    def run(self, units: int) -> None:
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn
        for _ in range(units):
            optimizer.zero_grad()
            output, _ = model(self.x)
            loss = loss_fn(output, self.y)
            loss.backward()
            optimizer.step()
            self.loss = loss.item()

    def result(self) -> float:
        return self.loss


class TorchLSTM:
    """PyTorch's nn.LSTM (its CPU kernel) with torch.optim.Adam, on the same thread count."""

    def __init__(self, spec: Spec, torch: Any) -> None:
        self.torch = torch
        dtype = torch.float32 if spec.x.dtype == np.float32 else torch.float64
        _, _, input_size = spec.x.shape
        self.model = torch.nn.LSTM(input_size, spec.y.shape[2], dtype=dtype)
        self.model.load_state_dict({k: torch.from_numpy(v) for k, v in spec.weights.items()})
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE, betas=BETAS)
        self.x, self.y = torch.from_numpy(spec.x), torch.from_numpy(spec.y)
        self.loss = float("nan")

    def run(self, units: int) -> None:
        mse = self.torch.nn.functional.mse_loss
        for _ in range(units):
            self.optimizer.zero_grad()
            output, _ = self.model(self.x)
            loss = mse(output, self.y)
            loss.backward()
            self.optimizer.step()
            self.loss = loss.item()

    def result(self) -> float:
        return self.loss


def w9(quick: bool, threads: int) -> TimingWorkload:
    sizes = (6, 4, 3, 5) if quick else (50, 64, 32, 64)  # length, batch, input, hidden
    length, batch, input_size, hidden_size = sizes
    spec = make_spec(*sizes)
    single = spec.cast(np.float32)
    torch, why = optional_torch(threads)
    f32 = FLOAT32_TOLERANCE
    return TimingWorkload(
        key="W9",
        title=f"LSTM({input_size}, {hidden_size}), {batch} sequences of length {length}: "
        "forward, MSE, backward through time, Adam",
        unit="step",
        units=4 if quick else 40,
        chunk=2 if quick else 4,
        contenders=[
            Contender("numpy", lambda: NumpyLSTM(spec), "written out, float64"),
            Contender("tinygrad_lab", lambda: LabLSTM(spec)),
            Contender("torch", torch and (lambda: TorchLSTM(spec, torch)), why or "CPU, float64"),
            Contender("numpy float32", lambda: NumpyLSTM(single), "written out", f32),
            Contender("tinygrad_lab float32", lambda: LabLSTM(single), "", f32),
            Contender(
                "torch float32", torch and (lambda: TorchLSTM(single, torch)), why or "CPU", f32
            ),
        ],
        targets=[
            Target("tinygrad_lab", "torch", MAX_TORCH_RATIO),
            Target("tinygrad_lab float32", "torch float32", MAX_TORCH_RATIO),
        ],
    )
