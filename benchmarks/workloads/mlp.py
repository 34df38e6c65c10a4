"""W1 (the lab's network, with its structural break) and W2 (a wider MLP), full-batch GD + MSE.

Contenders: the notebook's matrix-form NumPy (``tinygrad_lab.reference`` for W1; for W2 the same
arithmetic written out, with the loss a mean over every element as ``nn.MSELoss`` takes it),
tinygrad_lab as a student writes the loop (with and without the lab's `GradientRecorder`), and
PyTorch CPU in float64. Every contender draws the same weights from ``RandomState(seed)`` in
layer order, as the notebook does, so their losses agree (tinygrad_lab's to the bit).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tinygrad_lab import Tensor, nn, optim, reference
from tinygrad_lab.lab.rules import LabConfig, lab_config
from tinygrad_lab.lab.stress.network import build_network, insert_hidden_layers

from .common import Contender, Target, TimingWorkload, optional_torch

ROLL = "102303346"  # the course's example roll: 3 → 12×5 → 1, ReLU, lr 0.008, U(-1/7, 1/7)
DATA_SEED, WEIGHT_SEED = 0, 1


@dataclasses.dataclass
class Spec:
    """One MLP run: data, widths, and where (epoch) layers are inserted before the output."""

    X: np.ndarray
    y: np.ndarray
    sizes: list[int]
    init_range: float
    lr: float
    break_at: int | None = None  # epoch at which `added` width×width layers are inserted
    added: int = 0


def lab_data(n: int, seed: int = DATA_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The lab's data: X ~ U(-2, 2)³, y = sin(x0) + 0.5 x1² - 0.8 x2."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, (n, 3))
    y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - 0.8 * X[:, 2]).reshape(-1, 1)
    return X, y


def _segments(epoch: int, units: int, break_at: int | None):
    """Split ``units`` epochs from ``epoch`` into runs that stop at the structural break."""
    while units:
        n = units
        if break_at is not None and epoch < break_at:
            n = min(n, break_at - epoch)
        yield epoch, n
        epoch, units = epoch + n, units - n


class NotebookNumpy:
    """W1's reference: ``tinygrad_lab.reference.train``, the notebook's loop, verbatim."""

    def __init__(self, spec: Spec) -> None:
        self.spec, self.epoch, self.losses = spec, 0, [float("nan")]
        self.rng = np.random.RandomState(WEIGHT_SEED)
        self.W, self.b = reference.init_mlp(spec.sizes, spec.init_range, self.rng)

    def run(self, units: int) -> None:
        s = self.spec
        for start, n in _segments(self.epoch, units, s.break_at):
            if start == s.break_at:
                width = s.sizes[-2]
                for _ in range(s.added):  # the notebook's `weights.insert(-1, W)`
                    self.W.insert(-1, self.rng.uniform(-s.init_range, s.init_range, (width,) * 2))
                    self.b.insert(-1, np.zeros((1, width)))
            self.losses, _, _ = reference.train(s.X, s.y, self.W, self.b, s.lr, n)
        self.epoch += units

    def result(self) -> float:
        return self.losses[-1]


class HandNumpy:
    """W2's reference: the notebook's arithmetic written out (Z = A W + b, dZ = dA·[Z > 0],
    dW = Aᵀ dZ, db = Σ dZ, dA = dZ Wᵀ, W -= lr dW), with dA = 2 (ŷ - y) / (number of elements),
    and no dA computed for the input X (nothing needs it)."""

    def __init__(self, spec: Spec) -> None:
        self.spec, self.loss = spec, float("nan")
        W, b = reference.init_mlp(spec.sizes, spec.init_range, np.random.RandomState(WEIGHT_SEED))
        self.W, self.b = W, [bias.reshape(-1) for bias in b]

    def run(self, units: int) -> None:
        X, y, lr, W, b = self.spec.X, self.spec.y, self.spec.lr, self.W, self.b
        last = len(W) - 1
        for _ in range(units):
            activations, Zs, A = [X], [], X
            for i in range(len(W)):
                Z = A @ W[i]
                Z += b[i]
                Zs.append(Z)
                A = np.maximum(Z, 0) if i < last else Z
                activations.append(A)
            error = A - y
            self.loss = float(np.mean(error**2))
            dA = 2 * error / error.size
            for i in reversed(range(len(W))):
                dZ = dA if i == last else dA * (Zs[i] > 0)
                dW = activations[i].T @ dZ
                db = dZ.sum(axis=0)
                if i:
                    dA = dZ @ W[i].T
                W[i] -= lr * dW
                b[i] -= lr * db

    def result(self) -> float:
        return self.loss


class LabLoop:
    """tinygrad_lab as the lab writes it: Sequential, MSELoss, SGD, loss.item() every epoch."""

    def __init__(self, spec: Spec, recorder: bool, config: LabConfig | None) -> None:
        self.spec, self.config, self.epoch, self.losses = spec, config, 0, [float("nan")]
        self.rng = np.random.RandomState(WEIGHT_SEED)
        if config is not None:
            self.model = build_network(config, self.rng)
        else:
            self.model = _lab_mlp(spec.sizes, spec.init_range, self.rng)
        self.recorder = nn.GradientRecorder(self.model) if recorder else None
        self.loss_fn = nn.MSELoss()
        self.optimizer = optim.SGD(self.model.parameters(), lr=spec.lr)
        self.X, self.y = Tensor(spec.X), Tensor(spec.y)

    def run(self, units: int) -> None:
        model, loss_fn, X, y = self.model, self.loss_fn, self.X, self.y
        for start, n in _segments(self.epoch, units, self.spec.break_at):
            if start == self.spec.break_at:
                insert_hidden_layers(model, self.config, self.rng, count=self.spec.added)
                self.optimizer = optim.SGD(model.parameters(), lr=self.spec.lr)
            optimizer = self.optimizer
            for _ in range(n):
                optimizer.zero_grad()
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                self.losses.append(loss.item())
        self.epoch += units

    def result(self) -> float:
        return self.losses[-1]


def _lab_mlp(sizes: list[int], r: float, rng: Any) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out, init=nn.init.uniform(-r, r), rng=rng))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class TorchLoop:
    """PyTorch CPU, float64: the same network (weights transposed into nn.Linear's layout)."""

    def __init__(self, spec: Spec, torch: Any) -> None:
        self.spec, self.torch, self.epoch, self.losses = spec, torch, 0, [float("nan")]
        self.rng = np.random.RandomState(WEIGHT_SEED)
        W, _ = reference.init_mlp(spec.sizes, spec.init_range, self.rng)
        self.layers = [self._linear(w) for w in W]
        self.X, self.y = torch.from_numpy(spec.X), torch.from_numpy(spec.y)
        self._rebuild()

    def _linear(self, w: np.ndarray) -> Any:
        layer = self.torch.nn.Linear(*w.shape, dtype=self.torch.float64)
        with self.torch.no_grad():
            layer.weight.copy_(self.torch.from_numpy(w.T))
            layer.bias.zero_()
        return layer

    def _rebuild(self) -> None:
        modules = []
        for i, layer in enumerate(self.layers):
            modules.append(layer)
            if i < len(self.layers) - 1:
                modules.append(self.torch.nn.ReLU())
        self.model = self.torch.nn.Sequential(*modules)
        self.optimizer = self.torch.optim.SGD(self.model.parameters(), lr=self.spec.lr)

    def run(self, units: int) -> None:
        s, mse = self.spec, self.torch.nn.functional.mse_loss
        for start, n in _segments(self.epoch, units, s.break_at):
            if start == s.break_at:
                width = s.sizes[-2]
                for _ in range(s.added):
                    w = self.rng.uniform(-s.init_range, s.init_range, (width, width))
                    self.layers.insert(-1, self._linear(w))
                self._rebuild()
            model, optimizer, X, y = self.model, self.optimizer, self.X, self.y
            for _ in range(n):
                optimizer.zero_grad()
                loss = mse(model(X), y)
                loss.backward()
                optimizer.step()
                self.losses.append(loss.item())
        self.epoch += units

    def result(self) -> float:
        return self.losses[-1]


def w1(quick: bool, threads: int) -> TimingWorkload:
    config = lab_config(ROLL)
    n, epochs = (40, 20) if quick else (config.n_samples, config.epochs)
    X, y = lab_data(n)
    spec = Spec(X, y, config.layer_sizes, config.init_range, config.learning_rate)
    spec.break_at, spec.added = epochs, config.added_layers
    torch, why = optional_torch(threads)
    return TimingWorkload(
        key="W1",
        title=f"lab network {'→'.join(map(str, spec.sizes))}, N={n}, {epochs}+{epochs} epochs "
        f"(+{spec.added} layers at the break)",
        unit="epoch",
        units=2 * epochs,
        chunk=5 if quick else 50,
        contenders=[
            Contender("numpy", lambda: NotebookNumpy(spec), "tinygrad_lab.reference.train"),
            Contender("tinygrad_lab", lambda: LabLoop(spec, False, config)),
            Contender("tinygrad_lab + recorder", lambda: LabLoop(spec, True, config)),
            Contender("torch", torch and (lambda: TorchLoop(spec, torch)), why or "CPU, float64"),
        ],
        targets=[
            Target("tinygrad_lab", "numpy", 1.05),
            Target("tinygrad_lab + recorder", "numpy", 1.3),
            Target("tinygrad_lab", "torch", 1.0),
        ],
        exact=("tinygrad_lab", "tinygrad_lab + recorder"),
        tolerance=1e-6,
    )


def w2(quick: bool, threads: int) -> TimingWorkload:
    n, sizes, epochs = (64, [8, 16, 16, 16, 4], 6) if quick else (4096, [64, 256, 256, 256, 10], 50)
    rng = np.random.RandomState(DATA_SEED)
    X = rng.standard_normal((n, sizes[0]))
    y = rng.standard_normal((n, sizes[-1]))
    spec = Spec(X, y, sizes, init_range=1 / np.sqrt(sizes[0]), lr=0.05)
    torch, why = optional_torch(threads)
    return TimingWorkload(
        key="W2",
        title=f"wide MLP {'→'.join(map(str, sizes))}, N={n}, {epochs} epochs",
        unit="epoch",
        units=epochs,
        chunk=2 if quick else 5,
        contenders=[
            Contender("numpy", lambda: HandNumpy(spec), "hand-written matrix form"),
            Contender("tinygrad_lab", lambda: LabLoop(spec, False, None)),
            Contender("torch", torch and (lambda: TorchLoop(spec, torch)), why or "CPU, float64"),
        ],
        targets=[Target("tinygrad_lab", "numpy", 1.1)],
        exact=("tinygrad_lab",),
        tolerance=1e-6,
    )
