"""2-D pooling on NCHW input: every kH×kW window of the (padded) input gives one output entry,
its largest (`MaxPool2d`) or its mean (`AvgPool2d`). Forward and backward loop only over the
kH×kW offsets within a window, each a strided view of the input (no copy), as `Conv2d`'s
backward does; nothing loops over output pixels.

The output's sides are PyTorch's (`conv_output_size`): floored, so windows need not tile the
input and the rows and columns no window reaches get a zero gradient; with ``ceil_mode`` the
last window may hang over the right edge (it must start inside the input or its left padding),
and what it hangs over counts as padding that never wins a max and is left out of a mean.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from tinygrad_lab.differentiable import call
from tinygrad_lab.ops.conv import side_size
from tinygrad_lab.tensor import Function

__all__ = ["MaxPool2d", "AvgPool2d", "ScatterWindows", "GatherWindows", "check_divisor"]
__all__ += ["check_pool_settings", "pool_output_size"]

Pair = tuple[int, int]


def check_pool_settings(op: str, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> None:
    """A ValueError naming ``op`` and the setting, for a window PyTorch would refuse too."""
    for name, pair, low in (("kernel_size", kernel, 1), ("stride", stride, 1),
                            ("padding", padding, 0), ("dilation", dilation, 1)):  # fmt: skip
        if min(pair) < low:
            raise ValueError(f"{op}: {name} must be at least {low}, got {pair}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(
            f"{op}: padding {padding} must be at most half the window {kernel}, as in PyTorch "
            "(so that no window is mostly padding)"
        )


def check_divisor(op: str, divisor_override: int | None) -> None:
    """``divisor_override`` is None or a whole number other than 0, as PyTorch takes it."""
    if divisor_override is None:
        return
    whole = isinstance(divisor_override, Integral) and not isinstance(divisor_override, bool)
    if not whole or divisor_override == 0:
        raise ValueError(
            f"{op}: divisor_override must be None or a whole number other than 0, "
            f"got {divisor_override!r}"
        )


@dataclass(frozen=True)
class PoolGeometry:
    """The (height, width) pairs of one pooling, the output's sides, and how far the last
    window hangs over the padded input's right edge (``ceil_mode`` only)."""

    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    out: Pair
    overhang: Pair

    @classmethod
    @functools.lru_cache(maxsize=1024)  # worked out once: a training loop asks every step
    def of(cls, op, shape, kernel, stride=None, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        """Check the settings, each a (height, width) tuple, against an (N, C, H, W) ``shape``;
        an error names ``op``."""
        stride = kernel if stride is None else stride
        if len(shape) != 4:
            raise ValueError(f"{op}: input must be (N, C, H, W), got {shape}")
        check_pool_settings(op, kernel, stride, padding, dilation)
        sides = zip(("height", "width"), shape[2:], kernel, stride, padding, dilation, strict=True)
        out = tuple(side_size(op, shape, *side, ceil_mode) for side in sides)
        overhang = tuple(
            max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
            for o, s, d, k, n, p in zip(
                out, stride, dilation, kernel, shape[2:], padding, strict=True
            )
        )
        if max(dilation) > 1:  # only a dilated window can skip every entry of the input
            _refuse_windows_of_padding_only(op, shape, kernel, stride, padding, dilation, out)
        return cls(kernel, stride, padding, dilation, out, overhang)


def _refuse_windows_of_padding_only(op, shape, kernel, stride, padding, dilation, out) -> None:
    """PyTorch gives -inf for a max over padding alone; here it is an error that says why."""
    for side, n, k, s, p, d, o in zip(
        ("height", "width"), shape[2:], kernel, stride, padding, dilation, out, strict=True
    ):
        taps = np.arange(o)[:, None] * s + np.arange(k) * d  # of each window, in padded indices
        empty = ~((taps >= p) & (taps < p + n)).any(axis=1)
        if empty.any():
            raise ValueError(
                f"{op}: along the input's {side} {n} (shape {shape}), window {np.argmax(empty)} "
                f"(kernel {k}, dilation {d}, stride {s}, padding {p}) reads padding only: its "
                "maximum would be -inf (PyTorch's answer); use less padding or dilation"
            )


def _tuples(*pairs):
    """Each (height, width) pair as a tuple (None stays None), as `PoolGeometry.of` takes them."""
    return [None if pair is None else tuple(pair) for pair in pairs]


def pool_output_size(
    op: str,
    shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    dilation: Pair = (1, 1),
    ceil_mode: bool = False,
) -> Pair:
    """(OH, OW) of pooling an (N, C, H, W) input, or an error naming the op and what is wrong."""
    settings = _tuples(kernel, stride, padding, dilation)
    return PoolGeometry.of(op, tuple(shape), *settings, bool(ceil_mode)).out


def _pad(x: np.ndarray, g: PoolGeometry, value: float) -> np.ndarray:
    """The input with ``value`` around it: the padding, and what a last window hangs over."""
    (ph, pw), (eh, ew) = g.padding, g.overhang
    if not (ph or pw or eh or ew):
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)), constant_values=value)


def _indexes(g: PoolGeometry) -> list[tuple[slice, ...]]:
    """For each offset (i, j) within a window, the index of the (N, C, OH, OW) strided view of
    the padded input that holds entry (i, j) of every window. Pooling is then element-wise
    work on kH·kW such views (no copy): far faster in NumPy than reducing small window axes."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = g.kernel, g.stride, g.dilation, g.out
    indexes = []
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            indexes.append((slice(None), slice(None), rows, cols))
    return indexes


def _window_sums(x: np.ndarray, g: PoolGeometry, divisor, masks=None) -> np.ndarray:
    """Each window's sum of the input (its entries where ``masks``, one per offset, are
    true), divided by ``divisor``: average pooling, and the gather of a max pooling's
    gradient. The padding counts as 0."""
    xp = _pad(x, g, 0.0)
    views = [xp[index] for index in _indexes(g)]
    if masks is not None:
        views = [won * view for won, view in zip(masks, views, strict=True)]
    total = views[0].copy()
    for view in views[1:]:
        total += view
    return total / divisor


def _scatter(grad: np.ndarray, g: PoolGeometry, input_shape, divisor, masks=None) -> np.ndarray:
    """`_window_sums`' adjoint: each window's ``grad / divisor`` sent back to the entries it
    read (those where ``masks`` are true), summed where windows overlap; the padding's share
    is cut off, and entries no window read get 0."""
    (n, c, h, w), (ph, pw), (eh, ew) = input_shape, g.padding, g.overhang
    share = grad / divisor
    dxp = np.zeros((n, c, h + 2 * ph + eh, w + 2 * pw + ew), dtype=share.dtype)
    for k, index in enumerate(_indexes(g)):
        dxp[index] += share if masks is None else masks[k] * share
    return dxp[:, :, ph : ph + h, pw : pw + w]


class ScatterWindows(Function):
    """A pooling's backward as an op: `_scatter` of the gradient to the windows' entries (all
    of them, or the maxima where ``masks``). It is linear in the gradient; its own backward
    is the gather, `GatherWindows`, with the same windows, divisor and masks."""

    @staticmethod
    def forward(ctx, grad, geometry, input_shape, divisor, masks=None):
        ctx.settings = {"geometry": geometry, "divisor": divisor, "masks": masks}
        return _scatter(grad, geometry, input_shape, divisor, masks)

    @staticmethod
    def backward(ctx, grad):
        return call(GatherWindows, grad, **ctx.settings)


class GatherWindows(Function):
    """`_window_sums` as an op: with no ``masks``, average pooling; with masks, the gather of
    a max pooling's gradient from its maxima. Its backward is `ScatterWindows`."""

    @staticmethod
    def forward(ctx, x, geometry, divisor, masks=None):
        ctx.settings = {"geometry": geometry, "divisor": divisor, "masks": masks}
        ctx.input_shape = x.shape
        return _window_sums(x, geometry, divisor, masks)

    @staticmethod
    def backward(ctx, grad):
        return call(ScatterWindows, grad, input_shape=ctx.input_shape, **ctx.settings)


class MaxPool2d(Function):
    """Largest entry of each window (padding never wins: it is -inf). Ties share the gradient
    equally, as `Max` does: each of k tied maxima of a window gets grad / k. Its backward
    sends the gradient to the maxima (`ScatterWindows`); the second derivative is 0 (as
    PyTorch's), the maxima being fixed wherever the maximum is differentiable."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        settings = _tuples(kernel_size, stride, padding, dilation)
        g = PoolGeometry.of(ctx.name, x.shape, *settings, bool(ceil_mode))
        ctx.geometry = g
        xp = _pad(x, g, -np.inf)
        views = [xp[index] for index in _indexes(g)]
        out = views[0].copy()
        for view in views[1:]:
            np.maximum(out, view, out=out)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = (np.asarray(t) for t in ctx.saved_tensors)  # (values: the maxima are fixed)
        g = ctx.geometry
        xp = _pad(x, g, -np.inf)
        winners = [xp[index] == out for index in _indexes(g)]
        count = np.zeros(out.shape, dtype=out.dtype)  # how many entries tie for the maximum
        for won in winners:
            count += won
        # d max/dx = 1 at the window's maximum (1/k each for k ties), 0 elsewhere
        return call(
            ScatterWindows, grad, geometry=g, input_shape=x.shape, divisor=count, masks=winners
        )


@functools.lru_cache(maxsize=1024)  # the same every step; callers never write into it
def _divisor(g: PoolGeometry, n_h: int, n_w: int, count_include_pad: bool) -> np.ndarray:
    """(OH, OW): how many entries each window's mean divides by. As PyTorch: the entries inside
    the padded input (``count_include_pad``) or inside the input itself; never what a last
    ``ceil_mode`` window hangs over."""
    counts = []
    for n, k, s, p, o in zip((n_h, n_w), g.kernel, g.stride, g.padding, g.out, strict=True):
        start = np.arange(o) * s  # each window's first entry, in padded indices
        low, high = (0, n + 2 * p) if count_include_pad else (p, p + n)
        counts.append(np.minimum(start + k, high) - np.maximum(start, low))
    return np.outer(*counts)


class AvgPool2d(Function):
    """Mean of each window. ``count_include_pad`` (PyTorch's default): the padding counts as
    zeros in the mean; otherwise only the input's entries count. ``divisor_override``: divide
    every window's sum by it instead."""

    @staticmethod
    def forward(
        ctx,
        x,
        kernel_size,
        stride=None,
        padding=(0, 0),
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        settings = _tuples(kernel_size, stride, padding, (1, 1))
        g = PoolGeometry.of(ctx.name, x.shape, *settings, bool(ceil_mode))
        check_divisor(ctx.name, divisor_override)
        if divisor_override is not None:
            divisor = divisor_override
        else:
            divisor = _divisor(g, *x.shape[2:], bool(count_include_pad)).astype(x.dtype)
        ctx.geometry, ctx.input_shape, ctx.divisor = g, x.shape, divisor  # no array of x kept
        return _window_sums(x, g, divisor)

    @staticmethod
    def backward(ctx, grad):
        # d mean/dx = 1/divisor for each entry of the window; its backward is average pooling
        settings = {"geometry": ctx.geometry, "input_shape": ctx.input_shape}
        return call(ScatterWindows, grad, divisor=ctx.divisor, **settings)
