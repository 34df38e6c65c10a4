"""2-D pooling on NCHW input: every kH×kW window of the (padded) input gives one output entry,
its largest (`MaxPool2d`) or its mean (`AvgPool2d`). Forward and backward loop only over the
kH×kW offsets within a window, each a strided view of the input (no copy), as `Conv2d`'s
backward does; nothing loops over output pixels.

Unlike PyTorch, which floors, the windows must tile the padded input exactly: a remainder is an
`OutputSizeError` naming N, F, S and P (the same check as ``conv_output_size(..., exact=True)``),
because silently dropping the last rows and columns of an image is rarely what was meant.
"""

from __future__ import annotations

import numpy as np

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


def _pad(x: np.ndarray, padding: Pair, value: float) -> np.ndarray:
    (ph, pw) = padding
    if not ph and not pw:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _offsets(xp: np.ndarray, ctx: Function) -> list[tuple[tuple[slice, ...], np.ndarray]]:
    """For each offset (i, j) within a window, the (N, C, OH, OW) view of the padded input that
    holds entry (i, j) of every window, with its index into ``xp``. Pooling is then element-wise
    work on kH·kW such views: far faster in NumPy than reducing the small window axes."""
    (kh, kw), (sh, sw), (oh, ow) = ctx.kernel, ctx.stride, ctx.output_size
    views = []
    for i in range(kh):
        for j in range(kw):
            index = (slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw))
            views.append((index, xp[index]))
    return views


def _gather(ctx: Function, indexes: list[tuple], shares: list[np.ndarray]) -> np.ndarray:
    """The input's gradient: each offset's share (N, C, OH, OW) sent back to the pixels it was
    read from (``indexes``, as `_offsets` gives them), summed where windows overlap; the
    padding's gradient is cut off."""
    (n, c, h, w), (ph, pw) = ctx.input_shape, ctx.padding
    dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=shares[0].dtype)
    for index, share in zip(indexes, shares, strict=True):
        dxp[index] += share
    return dxp[:, :, ph : ph + h, pw : pw + w]


def _setup(ctx: Function, x: np.ndarray, kernel: Pair, stride: Pair | None, padding: Pair) -> None:
    """Check the geometry (before anything is computed) and keep it on ``ctx``."""
    stride = kernel if stride is None else stride
    ctx.output_size = pool_output_size(ctx.name, x.shape, kernel, stride, padding)
    ctx.input_shape, ctx.kernel, ctx.stride, ctx.padding = x.shape, kernel, stride, padding


class MaxPool2d(Function):
    """Largest entry of each window (padding never wins: it is -inf). Ties share the gradient
    equally, as `Max` does: each of k tied maxima of a window gets grad / k."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=(0, 0)):
        _setup(ctx, x, kernel_size, stride, padding)
        xp = _pad(x, padding, -np.inf)
        views = [view for _, view in _offsets(xp, ctx)]
        out = views[0].copy()
        for view in views[1:]:
            np.maximum(out, view, out=out)
        ctx.save_for_backward(xp, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp, out = ctx.saved_tensors
        offsets = _offsets(xp, ctx)
        winners = [view == out for _, view in offsets]
        count = np.zeros(out.shape, dtype=grad.dtype)  # how many entries tie for the maximum
        for won in winners:
            count += won
        share = grad / count
        # d max/dx = 1 at the window's maximum (1/k each for k ties), 0 elsewhere
        return _gather(ctx, [index for index, _ in offsets], [won * share for won in winners])


class AvgPool2d(Function):
    """Mean of each window; padding counts as zeros in the mean (PyTorch's default,
    ``count_include_pad=True``)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=(0, 0)):
        _setup(ctx, x, kernel_size, stride, padding)
        offsets = _offsets(_pad(x, padding, 0.0), ctx)
        total = offsets[0][1].copy()
        for _, view in offsets[1:]:
            total += view
        ctx.indexes = [index for index, _ in offsets]  # where each offset reads: no array kept
        return total / len(offsets)

    @staticmethod
    def backward(ctx, grad):
        share = grad / len(ctx.indexes)  # d mean/dx = 1/(kH·kW) for each entry of the window
        return _gather(ctx, ctx.indexes, [share] * len(ctx.indexes))
