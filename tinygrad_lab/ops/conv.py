"""2-D convolution (strictly, cross-correlation, as in PyTorch) on NCHW input, by im2col.

Every kH×kW window of the padded input becomes a column, and the convolution is a matrix
product of the weights with those columns. The columns are built for a few images at a time
(about a megabyte of them), so they stay in the cache while they are multiplied; in the NCHW
layout the products land where the output and the gradients live, with no transposed copy. The
op saves only its input and weights: backward builds the columns again, cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_lab.tensor import Function

__all__ = ["Conv2d", "ConvGeometry", "OutputSizeError", "conv_output_size"]

CHUNK_BYTES = 1 << 20  # columns built at once: they should fit in the cache


class OutputSizeError(ValueError):
    """``(N - F + 2P) / S`` is not a whole number: the filter does not tile the padded input."""


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, exact: bool = False
) -> int:
    """The output side of a convolution, ``(N - F + 2P) / S + 1``: the one home of the formula.

    Floored, as PyTorch does; with ``exact``, a remainder is an `OutputSizeError` naming N, F,
    S and P. (A dilated kernel spans ``d·(F - 1) + 1``: pass that as ``kernel``.) A kernel
    larger than the padded input is a ValueError either way.
    """
    span = size - kernel + 2 * padding
    if span < 0:
        raise ValueError(
            f"Conv2d: kernel {kernel} does not fit the input side {size} padded by {padding}"
        )
    if exact and span % stride:
        raise OutputSizeError(
            f"output size: (N − F + 2P) / S = ({size} − {kernel} + 2·{padding}) / {stride} = "
            f"{span}/{stride} is not a whole number: with N={size}, F={kernel}, S={stride}, "
            f"P={padding} the filter does not tile the input"
        )
    return span // stride + 1


Pair = tuple[int, int]


@dataclass(frozen=True)
class ConvGeometry:
    """The shapes of one convolution: (height, width) pairs, and the output's side lengths."""

    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int
    out: Pair

    @classmethod
    def of(cls, x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1, exact=False):
        """Check input (N, C, H, W) against weight (O, C/groups, kH, kW); an error names both.
        ``stride``, ``padding`` and ``dilation`` are ints or (height, width) pairs."""
        stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
        if len(x_shape) != 4 or len(w_shape) != 4 or x_shape[1] != w_shape[1] * groups:
            raise ValueError(
                f"Conv2d: input {tuple(x_shape)} must be (N, C, H, W) and weight "
                f"{tuple(w_shape)} (out_channels, C / groups, kH, kW) with groups={groups}"
            )
        if w_shape[0] % groups:
            raise ValueError(f"Conv2d: {w_shape[0]} out_channels do not split into {groups} groups")
        kernel = tuple(w_shape[2:])
        sides = list(zip("HW", x_shape[2:], kernel, stride, padding, dilation, strict=True))
        for _, n, k, _, p, d in sides:
            if n + 2 * p < d * (k - 1) + 1:
                dilated = f" dilated by {_text(dilation)}" if dilation != (1, 1) else ""
                raise ValueError(
                    f"Conv2d: kernel {kernel[0]}×{kernel[1]}{dilated} does not fit input "
                    f"{x_shape[2]}×{x_shape[3]} with padding {_text(padding)}"
                )
        out = tuple(_side(n, d * (k - 1) + 1, s, p, exact, side) for side, n, k, s, p, d in sides)
        return cls(kernel, stride, padding, dilation, groups, out)


def _pair(value) -> Pair:
    return (value, value) if np.ndim(value) == 0 else tuple(value)


def _text(pair: Pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def _side(n: int, span: int, stride: int, padding: int, exact: bool, side: str) -> int:
    try:
        return conv_output_size(n, span, stride, padding, exact)
    except OutputSizeError as err:
        raise OutputSizeError(f"Conv2d: the input's {side} {n}: {err}") from None


def _windows(xp: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Every kH×kW window of the padded input, as a view (N, C, OH, OW, kH, kW): no copy."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = g.kernel, g.stride, g.dilation, g.out
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(xp, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    return view[:, :, :oh, :ow]


def _columns(windows: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Windows of some images as columns (N, groups, C/groups · kH · kW, OH · OW): a copy."""
    n, c, oh, ow, kh, kw = windows.shape
    grouped = windows.reshape(n, g.groups, c // g.groups, oh, ow, kh, kw)
    return grouped.transpose(0, 1, 2, 5, 6, 3, 4).reshape(n, g.groups, -1, oh * ow)


def _chunks(windows: np.ndarray) -> list[slice]:
    """The images in groups whose columns take about `CHUNK_BYTES`."""
    n = len(windows)
    step = max(1, CHUNK_BYTES // max(windows[:1].size * windows.itemsize, 1))
    return [slice(k, k + step) for k in range(0, n, step)]


class Conv2d(Function):
    """``conv2d(x, w, b)``: x (N, C, H, W), w (O, C / groups, kH, kW), b (O,); stride, padding
    and dilation are ints or (height, width) pairs. The output side is floored, as in PyTorch,
    unless ``exact`` (as `nn.Conv2d` asks): then a remainder is an `OutputSizeError`."""

    @staticmethod
    def forward(ctx, x, w, b=None, stride=1, padding=0, dilation=1, groups=1, exact=False):
        g = ConvGeometry.of(x.shape, w.shape, stride, padding, dilation, groups, exact)
        if b is not None and b.shape != (w.shape[0],):
            raise ValueError(f"Conv2d: bias {b.shape} must be ({w.shape[0]},)")
        n, o = x.shape[0], w.shape[0]
        weights = w.reshape(groups, o // groups, -1)  # (groups, O/groups, C/groups · kH · kW)
        windows = _windows(_pad(x, g.padding), g)
        out = np.empty((n, groups, o // groups, g.out[0] * g.out[1]), np.result_type(x, w))
        for chunk in _chunks(windows):  # out = W @ columns, a few images at a time
            np.matmul(weights, _columns(windows[chunk], g), out=out[chunk])
        out = out.reshape(n, o, *g.out)
        if b is not None:
            out += b.reshape(o, 1, 1)
        ctx.save_for_backward(x, w)
        ctx.geometry = g
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        g, needs = ctx.geometry, ctx.needs_input_grad
        n, o = x.shape[0], w.shape[0]
        weights = w.reshape(g.groups, o // g.groups, -1)
        # the size spelled out, not -1: an empty batch (n = 0) has a gradient of size 0
        grads = np.ascontiguousarray(grad).reshape(n, g.groups, o // g.groups, g.out[0] * g.out[1])
        xp = _pad(x, g.padding)
        windows = _windows(xp, g)
        dw = np.zeros_like(weights) if needs[1] else None
        dxp = np.zeros_like(xp) if needs[0] else None
        for chunk in _chunks(windows):
            columns, gc = _columns(windows[chunk], g), grads[chunk]
            if needs[1]:  # Σ over images and positions of gradient ⊗ window
                dw += np.matmul(gc, columns.swapaxes(-1, -2)).sum(axis=0)
            if needs[0]:  # each window sends Wᵀ·gradient back to the pixels it covered
                _add_columns(dxp[chunk], np.matmul(weights.swapaxes(-1, -2), gc), g)
        db = grad.sum(axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        dx = None if dxp is None else dxp[:, :, g.padding[0] : dxp.shape[2] - g.padding[0]]
        if dx is not None:
            dx = dx[:, :, :, g.padding[1] : dxp.shape[3] - g.padding[1]]
        dw = None if dw is None else dw.reshape(w.shape)
        return (dx, dw) if len(needs) == 2 else (dx, dw, db)


def _pad(x: np.ndarray, padding: Pair) -> np.ndarray:
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x


def _add_columns(dxp: np.ndarray, dcols: np.ndarray, g: ConvGeometry) -> None:
    """col2im: add each column's entries back into the (padded) pixels its window covered."""
    n, groups, _, _ = dcols.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = g.kernel, g.stride, g.dilation, g.out
    per_group = dxp.shape[1] // groups
    dcols = dcols.reshape(n, groups, per_group, kh, kw, oh, ow)
    pixels = dxp.reshape(n, groups, per_group, *dxp.shape[2:])
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            pixels[:, :, :, rows, cols] += dcols[:, :, :, i, j]
