"""W6: epochs of the digits CNN (``tinygrad-lab digits``) on scikit-learn's handwritten digits,
float32: Conv2d(1→16, 3×3, pad 1) → ReLU → MaxPool2d(2) → Conv2d(16→32, 3×3, pad 1) → ReLU →
Flatten → Dropout(0.25) → Linear(512→10), cross-entropy, Adam (lr 2e-3), 42 batches of 32 an
epoch.

Every contender starts from the same weights (tinygrad_lab's initial draws, copied in), sees the
batches in the same order and drops the same units (each draws its dropout masks from the same
seeded NumPy generator, as tinygrad_lab's `Dropout` does, ``rng.random(shape) >= p``), so the
three train the same network up to float32 rounding. The result every contender must agree on is
the test accuracy after the repeat's epochs (a whole training of 20 epochs in the full run):
within one point (``tolerance`` 0.01, relative).

- ``numpy``: the same network written out by hand (im2col convolutions, the max-pool by a
  reshape, the backward of each layer, Adam), the price of the arithmetic alone;
- ``tinygrad_lab``: the digits command's own model and training loop (without the recorder);
- ``torch``: ``torch.nn`` layers and ``torch.optim.Adam``, one thread.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_lab import optim
from tinygrad_lab.data import DataLoader
from tinygrad_lab.lab import digits

from .common import Contender, Target, TimingWorkload, optional_torch

SEED = 0
F32 = np.float32


def _loader(data: digits.DigitsData, config: digits.DigitsConfig, labels: Any) -> DataLoader:
    """The digits command's batches: the same order for every contender (same seed)."""
    return DataLoader(
        data.x_train,
        data.y_train.astype(labels),
        batch_size=config.batch_size,
        shuffle=True,
        seed=digits.generators(config.seed).shuffle,
        drop_last=True,
    )


def _keep_mask(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> np.ndarray:
    """tinygrad_lab's dropout mask, drawn the same way: zeros and 1 / (1 - p)."""
    return (rng.random(shape) >= p) * F32(1 / (1 - p))


class LabDigits:
    """The digits command's model, DataLoader, Adam and epoch loop."""

    def __init__(self, config: digits.DigitsConfig, data: digits.DigitsData) -> None:
        self.data = data
        self.model = digits.build_model(config, digits.generators(config.seed))
        self.optimizer = optim.Adam(self.model.parameters(), lr=config.learning_rate)
        self.loader = _loader(data, config, np.float32)

    def run(self, units: int) -> None:
        for _ in range(units):
            digits.train_epoch(self.model, self.optimizer, self.loader)

    def result(self) -> float:
        _, predicted = digits.evaluate(self.model, self.data.x_test, self.data.y_test)
        return float((predicted == self.data.y_test).mean())


# ------------------------------------------------------------------------- hand-written NumPy
def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3×3 convolution, padding 1, by im2col: (out NCHW, cols (N·H·W, C·9))."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = sliding_window_view(xp, (3, 3), axis=(2, 3))  # (N, C, H, W, 3, 3)
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9)
    out = cols @ w.reshape(len(w), -1).T
    out += b
    return out.reshape(n, h, wd, len(w)).transpose(0, 3, 1, 2), cols


def _conv_backward(g: np.ndarray, cols: np.ndarray, w: np.ndarray, input_grad: bool):
    """(dx or None, dw, db) of `_conv` from the output gradient g (N, O, H, W)."""
    n, o, h, wd = g.shape
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, o)
    dw, db = (g2.T @ cols).reshape(w.shape), g2.sum(axis=0)
    if not input_grad:
        return None, dw, db
    c = w.shape[1]
    dcols = (g2 @ w.reshape(o, -1)).reshape(n, h, wd, c, 3, 3)
    dxp = np.zeros((n, c, h + 2, wd + 2), dtype=g.dtype)
    for i in range(3):
        for j in range(3):
            dxp[:, :, i : i + h, j : j + wd] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, 1:-1, 1:-1], dw, db


def _corners(a: np.ndarray) -> list[np.ndarray]:
    """The (0, 0), (0, 1), (1, 0) and (1, 1) entries of every 2×2 window, strided views."""
    return [a[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]


class NumpyDigits:
    """The same network and Adam, every derivative written out (ties of the max-pool share
    the gradient, as tinygrad_lab's do)."""

    def __init__(self, config: digits.DigitsConfig, data: digits.DigitsData) -> None:
        model = digits.build_model(config, digits.generators(config.seed))
        self.params = [p.data.copy() for p in model.parameters()]  # W1 b1 W2 b2 W3 b3
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t, self.lr, self.p = 0, config.learning_rate, config.dropout
        self.data, self.loader = data, _loader(data, config, np.int64)
        self.rng = digits.generators(config.seed).dropout

    def forward(self, x: np.ndarray, train: bool) -> tuple[np.ndarray, tuple]:
        w1, b1, w2, b2, w3, b3 = self.params
        z1, cols1 = _conv(x, w1, b1)
        corners = _corners(np.maximum(z1, 0))  # the four entries of every 2×2 window
        p1 = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
        z2, cols2 = _conv(p1, w2, b2)
        a2 = np.maximum(z2, 0).reshape(len(x), -1)
        mask = _keep_mask(self.rng, a2.shape, self.p) if train else None
        d = a2 * mask if train else a2
        return d @ w3 + b3, (cols1, z1, corners, p1, cols2, z2, mask, d)

    def step(self, x: np.ndarray, labels: np.ndarray) -> float:
        logits, (cols1, z1, corners, p1, cols2, z2, mask, d) = self.forward(x, True)
        w1, _, w2, _, w3, _ = self.params
        z = logits - logits.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        rows = np.arange(len(labels))
        g = np.exp(log_p)
        g[rows, labels] -= 1
        g /= len(labels)  # d(mean -log p_t)/dlogits
        dw3, db3 = d.T @ g, g.sum(axis=0)
        g2 = ((g @ w3.T) * mask).reshape(z2.shape) * (z2 > 0)
        dp1, dw2, db2 = _conv_backward(g2, cols2, w2, True)
        winners = [corner == p1 for corner in corners]
        share = dp1 / (winners[0].astype(F32) + winners[1] + winners[2] + winners[3])  # ties
        g1 = np.zeros_like(z1)
        for k, won in enumerate(winners):  # each window's maximum gets the gradient
            g1[:, :, k // 2 :: 2, k % 2 :: 2] = won * share
        g1 *= z1 > 0
        _, dw1, db1 = _conv_backward(g1, cols1, w1, False)
        self._adam([dw1, db1, dw2, db2, dw3, db3])
        return float(-log_p[rows, labels].mean())

    def _adam(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        for k, grad in enumerate(grads):
            self.m[k] = b1 * self.m[k] + (1 - b1) * grad
            self.v[k] = b2 * self.v[k] + (grad * grad) * (1 - b2)
            denominator = np.sqrt(self.v[k]) / np.sqrt(1 - b2**self.t) + eps
            self.params[k] -= (self.lr / (1 - b1**self.t)) * (self.m[k] / denominator)

    def run(self, units: int) -> None:
        for _ in range(units):
            for images, labels in self.loader:
                self.step(images, labels)

    def result(self) -> float:
        logits, _ = self.forward(self.data.x_test, False)
        return float((logits.argmax(axis=1) == self.data.y_test).mean())


# ------------------------------------------------------------------------------------ torch
class TorchDigits:
    """torch.nn layers with tinygrad_lab's initial weights copied in, and torch.optim.Adam."""

    def __init__(self, config: digits.DigitsConfig, data: digits.DigitsData, torch: Any) -> None:
        self.torch, self.data, self.p = torch, data, config.dropout
        model = digits.build_model(config, digits.generators(config.seed))
        (c1, c2), tnn = config.channels, torch.nn
        self.features = tnn.Sequential(
            tnn.Conv2d(1, c1, 3, padding=1),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Conv2d(c1, c2, 3, padding=1),
            tnn.ReLU(),
            tnn.Flatten(),
        )
        self.linear = tnn.Linear(c2 * 16, digits.CLASSES)
        ours = [p.data for p in model.parameters()]
        theirs = [*self.features.parameters(), *self.linear.parameters()]
        with torch.no_grad():
            for k, (mine, param) in enumerate(zip(ours, theirs, strict=True)):
                param.copy_(torch.from_numpy(mine.T.copy() if k == 4 else mine))  # Linear: Wᵀ
        self.params = theirs
        self.optimizer = torch.optim.Adam(self.params, lr=config.learning_rate)
        self.loader = _loader(data, config, np.int64)
        self.rng = digits.generators(config.seed).dropout

    def run(self, units: int) -> None:
        torch, features, linear = self.torch, self.features, self.linear
        cross_entropy = torch.nn.functional.cross_entropy
        for _ in range(units):
            for images, labels in self.loader:
                hidden = features(torch.from_numpy(images))
                mask = torch.from_numpy(_keep_mask(self.rng, tuple(hidden.shape), self.p))
                logits = linear(hidden * mask)
                loss = cross_entropy(logits, torch.from_numpy(labels))
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                loss.item()
                (logits.argmax(dim=1) == torch.from_numpy(labels)).sum().item()  # as ours

    def result(self) -> float:
        with self.torch.no_grad():
            logits = self.linear(self.features(self.torch.from_numpy(self.data.x_test)))
        return float((logits.argmax(dim=1).numpy() == self.data.y_test).mean())


def w6(quick: bool, threads: int) -> TimingWorkload:
    base = digits.FAST if quick else digits.DigitsConfig()
    epochs = 2 if quick else base.epochs
    config = dataclasses.replace(base, seed=SEED, epochs=epochs)
    try:
        data = digits.load_data()
    except ImportError as err:
        data, missing = None, f"skipped: {err}"
    else:
        missing = ""
    torch, why = optional_torch(threads)
    c1, c2 = config.channels
    return TimingWorkload(
        key="W6",
        title=f"digits CNN ({c1}, {c2} channels), {epochs} epochs of 42 batches of 32, float32",
        unit="epoch",
        units=epochs,
        chunk=1 if quick else 2,
        contenders=[
            Contender("numpy", (lambda: NumpyDigits(config, data)) if data else None, missing),
            Contender("tinygrad_lab", (lambda: LabDigits(config, data)) if data else None, missing),
            Contender(
                "torch",
                (lambda: TorchDigits(config, data, torch)) if data and torch else None,
                missing or why or "CPU, float32, same init, batches and dropout masks",
            ),
        ],
        targets=[Target("tinygrad_lab", "torch", 1.5)],
        tolerance=0.01,
    )
