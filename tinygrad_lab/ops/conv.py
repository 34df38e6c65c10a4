"""2-D convolution (strictly, cross-correlation, as in PyTorch) on NCHW input, by im2col.

Every kH×kW window of the padded input becomes a column, and the convolution is a matrix
product of the weights with those columns. The columns are built for a few images at a time
(about a megabyte of them), so they stay in the cache while they are multiplied; in the NCHW
layout the products land where the output and the gradients live, with no transposed copy. The
op saves only its input and weights: backward builds the columns again, cheaply. Its backward
is two ops (`Conv2dInputGrad`, `Conv2dWeightGrad`) whose own backward are convolutions, so
it is differentiable any number of times.

The output's sides are PyTorch's, floored: windows need not tile the input, and the rows and
columns no window reaches get a zero gradient. `conv_output_size` is the one home of the
formula, for the pooling ops too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_lab.differentiable import call
from tinygrad_lab.tensor import Function

__all__ = ["Conv2d", "Conv2dInputGrad", "Conv2dWeightGrad", "ConvGeometry", "OutputSizeError"]
__all__ += ["conv_output_size"]

CHUNK_BYTES = 1 << 20  # columns built at once: they should fit in the cache


class OutputSizeError(ValueError):
    """A convolution or pooling whose output would have a side < 1: the (dilated) kernel does
    not fit the padded input."""


def conv_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """One side of a convolution's or pooling's output, as PyTorch computes it:
    ``floor((N + 2P − D·(K − 1) − 1) / S) + 1``, or with ``ceil_mode`` (pooling) the ceiling,
    less one if that last window would start in the right padding. An output side < 1 is an
    `OutputSizeError` naming N, K, S, P (and D) and the computed size."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input or its left padding
    if out < 1:
        rounding = "ceil" if ceil_mode else "floor"
        dilated = f"{dilation}·" if dilation != 1 else ""
        raise OutputSizeError(
            f"input size {size} is too small for kernel {kernel}"
            + (f", dilation {dilation}" if dilation != 1 else "")
            + f", stride {stride}, padding {padding}: the output size {rounding}(({size} + "
            f"2·{padding} − {dilated}({kernel} − 1) − 1) / {stride}) + 1 = {out} is less than 1"
        )
    return out


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
    @functools.lru_cache(maxsize=1024)  # worked out once: a training loop asks every step
    def of(cls, x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1):
        """Check input (N, C, H, W) against weight (O, C/groups, kH, kW); an error names both.
        ``stride``, ``padding`` and ``dilation`` are ints or (height, width) tuples."""
        name = "Conv2d"
        stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
        if len(x_shape) != 4 or len(w_shape) != 4 or x_shape[1] != w_shape[1] * groups:
            raise ValueError(
                f"{name}: input {tuple(x_shape)} must be (N, C, H, W) and weight "
                f"{tuple(w_shape)} (out_channels, C / groups, kH, kW) with groups={groups}"
            )
        if w_shape[0] % groups:
            raise ValueError(f"{name}: {w_shape[0]} out_channels do not split into {groups} groups")
        for setting, pair, low in (("stride", stride, 1), ("padding", padding, 0),
                                   ("dilation", dilation, 1)):  # fmt: skip
            if len(pair) != 2 or min(pair) < low:
                raise ValueError(f"{name}: {setting} must be >= {low} (or a pair), got {pair}")
        kernel = tuple(w_shape[2:])
        sides = zip(
            ("height", "width"), x_shape[2:], kernel, stride, padding, dilation, strict=True
        )
        out = tuple(side_size(name, x_shape, *side) for side in sides)
        return cls(kernel, stride, padding, dilation, groups, out)


def side_size(
    op: str,
    shape: tuple,
    side: str,
    n: int,
    k: int,
    s: int,
    p: int,
    d: int = 1,
    ceil_mode: bool = False,
) -> int:
    """`conv_output_size` of one side of an input of ``shape``; its errors name ``op`` and the
    side (an empty side is one too: PyTorch refuses it rather than pad nothing)."""
    if n < 1:
        raise ValueError(f"{op}: the input's {side} is 0, in shape {tuple(shape)}")
    try:
        return conv_output_size(n, k, s, p, d, ceil_mode)
    except OutputSizeError as err:
        raise OutputSizeError(f"{op}: the input's {side} (shape {tuple(shape)}): {err}") from None


def _pair(value) -> Pair:
    return (value, value) if np.ndim(value) == 0 else tuple(value)


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


def _chunks(n: int, image_bytes: int) -> list[slice]:
    """The ``n`` images in groups whose columns (``image_bytes`` each) take about
    `CHUNK_BYTES`."""
    step = max(1, CHUNK_BYTES // max(image_bytes, 1))
    return [slice(k, k + step) for k in range(0, n, step)]


def _column_bytes(windows: np.ndarray) -> int:
    return windows[:1].size * windows.itemsize


class Conv2d(Function):
    """``conv2d(x, w, b)``: x (N, C, H, W), w (O, C / groups, kH, kW), b (O,); stride, padding
    and dilation are ints or (height, width) pairs. The output side is floored, as in PyTorch;
    a side < 1 is an `OutputSizeError`. Its backward is two ops, each linear in both of its
    inputs, whose own backward are convolutions: `Conv2dInputGrad` (a transposed convolution)
    and `Conv2dWeightGrad` (a correlation of the input with the gradient)."""

    @staticmethod
    def forward(ctx, x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        settings = (_pair(stride), _pair(padding), _pair(dilation))  # tuples: hashable
        g = ConvGeometry.of(x.shape, w.shape, *settings, groups)
        if b is not None and b.shape != (w.shape[0],):
            raise ValueError(f"Conv2d: bias {b.shape} must be ({w.shape[0]},)")
        n, o = x.shape[0], w.shape[0]
        weights = w.reshape(groups, o // groups, -1)  # (groups, O/groups, C/groups · kH · kW)
        windows = _windows(_pad(x, g.padding), g)
        out = np.empty((n, groups, o // groups, g.out[0] * g.out[1]), np.result_type(x, w))
        for chunk in _chunks(n, _column_bytes(windows)):  # out = W @ columns, a few at a time
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
        dx = call(Conv2dInputGrad, grad, w, geometry=g, input_shape=x.shape) if needs[0] else None
        dw = call(Conv2dWeightGrad, x, grad, geometry=g, weight_shape=w.shape) if needs[1] else None
        db = grad.sum(axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        return (dx, dw) if len(needs) == 2 else (dx, dw, db)


def _convolve(x, w, g: ConvGeometry):
    """``conv2d(x, w)`` with ``g``'s settings, no bias: recorded on Tensors."""
    settings = {"stride": g.stride, "padding": g.padding, "dilation": g.dilation}
    return call(Conv2d, x, w, groups=g.groups, **settings)


class Conv2dInputGrad(Function):
    """The gradient at a convolution's input from ``grad`` at its output (N, O, OH, OW) and the
    weights ``w``: a transposed convolution, each window sending Wᵀ·grad back to the pixels it
    covered. It is linear in each input: ⟨T(grad, w), h⟩ = ⟨grad, conv(h, w)⟩ = ⟨w, C(h, grad)⟩,
    so its backward is a convolution and a `Conv2dWeightGrad`."""

    @staticmethod
    def forward(ctx, grad, w, geometry, input_shape):
        g, (n, c, h, wd) = geometry, input_shape
        o = w.shape[0]
        ctx.geometry = g
        ctx.save_for_backward(grad, w)
        weights = w.reshape(g.groups, o // g.groups, -1)
        # the size spelled out, not -1: an empty batch (n = 0) has a gradient of size 0
        grads = np.ascontiguousarray(grad).reshape(n, g.groups, o // g.groups, g.out[0] * g.out[1])
        (ph, pw), dtype = g.padding, np.result_type(grad, w)
        dxp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype)
        image_bytes = c * g.kernel[0] * g.kernel[1] * g.out[0] * g.out[1] * dtype.itemsize
        for chunk in _chunks(n, image_bytes):  # each window sends Wᵀ·grad back to its pixels
            _add_columns(dxp[chunk], np.matmul(weights.swapaxes(-1, -2), grads[chunk]), g)
        return dxp[:, :, ph : ph + h, pw : pw + wd]

    @staticmethod
    def backward(ctx, h):
        grad, w = ctx.saved_tensors
        g, needs = ctx.geometry, ctx.needs_input_grad
        dgrad = _convolve(h, w, g) if needs[0] else None
        dw = call(Conv2dWeightGrad, h, grad, geometry=g, weight_shape=w.shape) if needs[1] else None
        return dgrad, dw


class Conv2dWeightGrad(Function):
    """The gradient at a convolution's weights from its input ``x`` and ``grad`` at its output:
    the correlation Σ over images and positions of grad ⊗ window. It is linear in each input:
    ⟨C(x, grad), k⟩ = ⟨grad, conv(x, k)⟩ = ⟨x, T(grad, k)⟩, so its backward is a
    `Conv2dInputGrad` and a convolution."""

    @staticmethod
    def forward(ctx, x, grad, geometry, weight_shape):
        g, n, o = geometry, x.shape[0], weight_shape[0]
        ctx.geometry = g
        ctx.save_for_backward(x, grad)
        grads = np.ascontiguousarray(grad).reshape(n, g.groups, o // g.groups, g.out[0] * g.out[1])
        windows = _windows(_pad(x, g.padding), g)
        dw = np.zeros(
            (g.groups, o // g.groups, int(np.prod(weight_shape[1:]))), np.result_type(x, grad)
        )
        for chunk in _chunks(n, _column_bytes(windows)):  # Σ of gradient ⊗ window
            dw += np.matmul(grads[chunk], _columns(windows[chunk], g).swapaxes(-1, -2)).sum(axis=0)
        return dw.reshape(weight_shape)

    @staticmethod
    def backward(ctx, k):
        x, grad = ctx.saved_tensors
        g, needs = ctx.geometry, ctx.needs_input_grad
        dx = call(Conv2dInputGrad, grad, k, geometry=g, input_shape=x.shape) if needs[0] else None
        dgrad = _convolve(x, k, g) if needs[1] else None
        return dx, dgrad


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
