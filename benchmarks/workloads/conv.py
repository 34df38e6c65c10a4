"""W3: one Conv2d(1, 14, 4, padding=1) on a batch of 64 1×30×30 images, forward + backward
(gradients of the input, the weight and the bias) against a fixed upstream gradient.

The NumPy reference is plain im2col written directly: every 4×4 window of the padded input
becomes a row of one (N·OH·OW, C·kH·kW) matrix, the convolution is one matrix product, and
backward scatters the columns' gradient back over the kernel offsets. The second NumPy row is
the best formulation found, written out by hand: the same im2col a few images at a time, in the
NCHW layout (columns (C·kH·kW, OH·OW) per image), which is what tinygrad_lab's op does; so the
ratio to it is the price of going through the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_lab import Tensor, nn

from .common import Contender, Target, TimingWorkload, optional_torch

SEED = 3


def im2col_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, padding: int):
    """``(out NCHW, cols)`` of a stride-1 convolution: cols is (N·OH·OW, C·kH·kW)."""
    n, c, _, _ = x.shape
    o, _, kh, kw = w.shape
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, OH, OW, kH, kW), a view
    oh, ow = windows.shape[2], windows.shape[3]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    out = cols @ w.reshape(o, -1).T
    out += b
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2), cols


def im2col_backward(g: np.ndarray, cols: np.ndarray, w: np.ndarray, x_shape: tuple, padding: int):
    """``(dx, dw, db)`` from the upstream gradient ``g`` (N, O, OH, OW)."""
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    oh, ow, p = g.shape[2], g.shape[3], padding
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, o)
    dw = (g2.T @ cols).reshape(w.shape)
    db = g2.sum(axis=0)
    dcols = (g2 @ w.reshape(o, -1)).reshape(n, oh, ow, c, kh, kw)
    dxp = np.zeros((n, c, h + 2 * p, wd + 2 * p))
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i : i + oh, j : j + ow] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, p : p + h, p : p + wd], dw, db


def _checksum(*arrays: np.ndarray) -> float:
    return float(sum(np.abs(a).sum() for a in arrays))


def chunked_forward_backward(x, w, b, g, p: int, images: int):
    """The chunked NCHW im2col, by hand: ``(dx, dw, db)`` (the output is computed and dropped)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = g.shape[2], g.shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))
    w2 = w.reshape(o, -1)
    out = np.empty((n, o, oh * ow))
    for k in range(0, n, images):
        cols = windows[k : k + images].transpose(0, 1, 4, 5, 2, 3).reshape(-1, c * kh * kw, oh * ow)
        np.matmul(w2, cols, out=out[k : k + images])
    out += b.reshape(o, 1)
    g3 = g.reshape(n, o, oh * ow)
    dw, dxp = np.zeros_like(w2), np.zeros_like(xp)
    for k in range(0, n, images):
        cols = windows[k : k + images].transpose(0, 1, 4, 5, 2, 3).reshape(-1, c * kh * kw, oh * ow)
        dw += np.matmul(g3[k : k + images], cols.swapaxes(-1, -2)).sum(axis=0)
        dcols = np.matmul(w2.T, g3[k : k + images]).reshape(-1, c, kh, kw, oh, ow)
        for i in range(kh):
            for j in range(kw):
                dxp[k : k + images, :, i : i + oh, j : j + ow] += dcols[:, :, i, j]
    db = g.sum(axis=(0, 2, 3))
    return dxp[:, :, p : p + h, p : p + wd], dw.reshape(w.shape), db


class ChunkedNumpyConv:
    def __init__(self, x: np.ndarray, g: np.ndarray, conv: nn.Conv2d) -> None:
        self.x, self.g, self.padding = x, g, conv.padding[0]
        self.w, self.b = conv.weight.data.copy(), conv.bias.data.copy()
        per_image = self.w[0].size * g[0, 0].size * x.itemsize  # columns of one image
        self.images = max(1, (1 << 20) // per_image)  # the op's chunk: about a megabyte
        self.grads: tuple = ()

    def run(self, units: int) -> None:
        for _ in range(units):
            self.grads = chunked_forward_backward(
                self.x, self.w, self.b, self.g, self.padding, self.images
            )

    def result(self) -> float:
        return _checksum(*self.grads)


class NumpyConv:
    def __init__(self, x: np.ndarray, g: np.ndarray, conv: nn.Conv2d) -> None:
        self.x, self.g, self.padding = x, g, conv.padding[0]
        self.w, self.b = conv.weight.data.copy(), conv.bias.data.copy()
        self.grads: tuple = ()

    def run(self, units: int) -> None:
        for _ in range(units):
            _, cols = im2col_forward(self.x, self.w, self.b, self.padding)
            self.grads = im2col_backward(self.g, cols, self.w, self.x.shape, self.padding)

    def result(self) -> float:
        return _checksum(*self.grads)


class LabConv:
    def __init__(self, x: np.ndarray, g: np.ndarray, conv: nn.Conv2d) -> None:
        self.x, self.g, self.conv = Tensor(x, requires_grad=True), g, conv

    def run(self, units: int) -> None:
        x, conv, g = self.x, self.conv, self.g
        for _ in range(units):
            x.grad = None
            conv.zero_grad()
            conv(x).backward(g)

    def result(self) -> float:
        return _checksum(self.x.grad, self.conv.weight.grad, self.conv.bias.grad)


class TorchConv:
    def __init__(self, x: np.ndarray, g: np.ndarray, conv: nn.Conv2d, torch: Any) -> None:
        self.torch, self.padding = torch, conv.padding
        self.x = torch.tensor(x, requires_grad=True)
        self.w = torch.tensor(conv.weight.data, requires_grad=True)
        self.b = torch.tensor(conv.bias.data, requires_grad=True)
        self.g = torch.from_numpy(g)

    def run(self, units: int) -> None:
        conv2d = self.torch.nn.functional.conv2d
        for _ in range(units):
            self.x.grad = self.w.grad = self.b.grad = None
            conv2d(self.x, self.w, self.b, padding=self.padding).backward(self.g)

    def result(self) -> float:
        return _checksum(*(t.grad.numpy() for t in (self.x, self.w, self.b)))


def w3(quick: bool, threads: int) -> TimingWorkload:
    batch, side, iterations = (4, 10, 6) if quick else (64, 30, 40)
    rng = np.random.RandomState(SEED)
    x = rng.standard_normal((batch, 1, side, side))

    def make_conv() -> nn.Conv2d:  # the same weights for every contender
        return nn.Conv2d(1, 14, 4, padding=1, rng=np.random.RandomState(SEED + 1))

    out_side = make_conv().output_size(side, side)
    g = rng.standard_normal((batch, 14, *out_side))
    torch, why = optional_torch(threads)
    return TimingWorkload(
        key="W3",
        title=f"Conv2d(1, 14, 4, padding=1), batch {batch} of 1×{side}×{side}, "
        "forward + backward (dx, dW, db)",
        unit="iteration",
        units=iterations,
        chunk=2 if quick else 4,
        contenders=[
            Contender("numpy", lambda: NumpyConv(x, g, make_conv()), "im2col reference"),
            Contender(
                "numpy, chunked NCHW",
                lambda: ChunkedNumpyConv(x, g, make_conv()),
                "the best formulation found",
            ),
            Contender("tinygrad_lab", lambda: LabConv(x, g, make_conv())),
            Contender(
                "torch",
                torch and (lambda: TorchConv(x, g, make_conv(), torch)),
                why or "CPU, float64",
            ),
        ],
        targets=[Target("tinygrad_lab", "numpy", 1.5), Target("tinygrad_lab", "torch", 1.0)],
        tolerance=1e-9,
    )
