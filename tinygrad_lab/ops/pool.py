"""2-D pooling on NCHW input: every kH×kW window of the (padded) input gives one output entry,
its largest (`MaxPool2d`) or its mean (`AvgPool2d`). As in `Conv2d`, the windows are a strided
view of the input (no copy); backward loops only over the kH×kW offsets of a window.

Unlike PyTorch, which floors, the windows must tile the padded input exactly: a remainder is an
`OutputSizeError` naming N, F, S and P (the same check as ``conv_output_size(..., exact=True)``),
because silently dropping the last rows and columns of an image is rarely what was meant.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_lab.ops.conv import OutputSizeError, conv_output_size
from tinygrad_lab.tensor import Function

__all__ = ["MaxPool2d", "AvgPool2d", "pool_output_size"]

Pair = tuple[int, int]


def pool_output_size(
    op: str, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair
) -> Pair:
    """(OH, OW) of pooling an (N, C, H, W) input, or an error naming the op and what is wrong."""
    if len(shape) != 4:
        raise ValueError(f"{op}: input must be (N, C, H, W), got {shape}")
    for name, pair, low in (("kernel_size", kernel, 1), ("stride", stride, 1)):
        if min(pair) < low:
            raise ValueError(f"{op}: {name} must be at least {low}, got {pair}")
    if min(padding) < 0 or padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(
            f"{op}: padding {padding} must be >= 0 and at most half the window {kernel} "
            "(so that no window is all padding)"
        )
    sizes = []
    for side, n, f, s, p in zip(
        ("height", "width"), shape[2:], kernel, stride, padding, strict=True
    ):
        if n < 1:
            raise ValueError(f"{op}: the input's {side} is 0, in shape {shape}")
        if n + 2 * p < f:
            raise ValueError(f"{op}: window {kernel} does not fit the input's {side} {n} + 2·{p}")
        try:
            sizes.append(conv_output_size(n, f, s, p, exact=True))
        except OutputSizeError as err:
            raise OutputSizeError(f"{op}: the input's {side} {n} (shape {shape}): {err}") from None
    return sizes[0], sizes[1]


def _windows(xp: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """(N, C, OH, OW, kH, kW): every window of the padded input, a strided view."""
    view = sliding_window_view(xp, kernel, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1]]


def _pad(x: np.ndarray, padding: Pair, value: float) -> np.ndarray:
    (ph, pw) = padding
    if not ph and not pw:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _scatter(share: np.ndarray, ctx: Function) -> np.ndarray:
    """The gradient of the input from each window's share (N, C, OH, OW, kH, kW): every window
    sends each entry's share back to the pixel it covered, summed where windows overlap."""
    (n, c, h, w), (ph, pw) = ctx.input_shape, ctx.padding
    (sh, sw), (oh, ow) = ctx.stride, share.shape[2:4]
    dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=share.dtype)
    for i in range(share.shape[4]):
        for j in range(share.shape[5]):
            dxp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += share[:, :, :, :, i, j]
    return dxp[:, :, ph : ph + h, pw : pw + w]


def _setup(ctx: Function, x: np.ndarray, kernel: Pair, stride: Pair | None, padding: Pair):
    stride = kernel if stride is None else stride
    pool_output_size(ctx.name, x.shape, kernel, stride, padding)
    ctx.input_shape, ctx.kernel, ctx.stride, ctx.padding = x.shape, kernel, stride, padding
    return stride


class MaxPool2d(Function):
    """Largest entry of each window (padding never wins: it is -inf). Ties share the gradient
    equally, as `Max` does: each of k tied maxima of a window gets grad / k."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=(0, 0)):
        stride = _setup(ctx, x, kernel_size, stride, padding)
        xp = _pad(x, padding, -np.inf)
        out = _windows(xp, kernel_size, stride).max(axis=(4, 5))
        ctx.save_for_backward(xp, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp, out = ctx.saved_tensors
        winners = _windows(xp, ctx.kernel, ctx.stride) == out[..., None, None]
        count = winners.sum(axis=(4, 5), dtype=grad.dtype)
        # d max/dx = 1 at the window's maximum (1/k each for k ties), 0 elsewhere
        return _scatter(winners * (grad / count)[..., None, None], ctx)


class AvgPool2d(Function):
    """Mean of each window; padding counts as zeros in the mean (PyTorch's default,
    ``count_include_pad=True``)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=(0, 0)):
        stride = _setup(ctx, x, kernel_size, stride, padding)
        return _windows(_pad(x, padding, 0.0), kernel_size, stride).mean(axis=(4, 5))

    @staticmethod
    def backward(ctx, grad):
        kh, kw = ctx.kernel
        share = grad[..., None, None] / (kh * kw)  # d mean/dx = 1/(kH·kW) for each window entry
        return _scatter(np.broadcast_to(share, (*grad.shape, kh, kw)), ctx)
