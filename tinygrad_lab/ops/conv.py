"""2-D convolution (strictly, cross-correlation, as in PyTorch) on NCHW input, by im2col:
every kH×kW window of the padded input becomes a row, and the convolution is one matrix product.
No Python loop runs over output pixels; backward loops only over the kH×kW kernel offsets."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_lab.tensor import Function

__all__ = ["Conv2d", "OutputSizeError", "conv_output_size"]


class OutputSizeError(ValueError):
    """``(N - F + 2P) / S`` is not a whole number: the filter does not tile the padded input."""


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, exact: bool = False
) -> int:
    """The output side of a convolution, ``(N - F + 2P) / S + 1``: the one home of the formula.

    Floored, as PyTorch does; with ``exact``, a remainder is an `OutputSizeError` naming N, F,
    S and P. A kernel larger than the padded input is a ValueError either way.
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


class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b=None, stride=1, padding=0):
        if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
            raise ValueError(
                f"Conv2d: input {x.shape} must be (N, C, H, W) and weight {w.shape} "
                f"(out_channels, C, kH, kW) with the same C"
            )
        if b is not None and b.shape != (w.shape[0],):
            raise ValueError(f"Conv2d: bias {b.shape} must be ({w.shape[0]},)")
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        if h + 2 * padding < kh or wd + 2 * padding < kw:
            raise ValueError(
                f"Conv2d: kernel {kh}×{kw} does not fit input {h}×{wd} with padding {padding}"
            )
        oh = conv_output_size(h, kh, stride, padding)
        ow = conv_output_size(wd, kw, stride, padding)
        xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else x
        # windows: (N, C, OH, OW, kH, kW), a strided view: no copy until the reshape below
        windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
        cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        out = cols @ w.reshape(o, -1).T  # (N·OH·OW, O)
        if b is not None:
            out += b
        ctx.save_for_backward(cols, w)
        ctx.geometry = (x.shape, xp.shape, stride, padding, oh, ow)
        return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        cols, w = ctx.saved_tensors
        x_shape, xp_shape, stride, padding, oh, ow = ctx.geometry
        o, c, kh, kw = w.shape
        g = grad.transpose(0, 2, 3, 1).reshape(-1, o)  # (N·OH·OW, O)
        needs = ctx.needs_input_grad
        dw = (g.T @ cols).reshape(w.shape) if needs[1] else None  # Σ over windows of g ⊗ window
        db = g.sum(axis=0) if len(needs) > 2 and needs[2] else None
        dx = None
        if needs[0]:
            # col2im: each window position sends its share back to the pixels it covered
            dcols = (g @ w.reshape(o, -1)).reshape(x_shape[0], oh, ow, c, kh, kw)
            dxp = np.zeros(xp_shape, dtype=grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    dxp[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += dcols[
                        :, :, :, :, i, j
                    ].transpose(0, 3, 1, 2)
            h, wd = x_shape[2], x_shape[3]
            dx = dxp[:, :, padding : padding + h, padding : padding + wd]
        return (dx, dw) if len(needs) == 2 else (dx, dw, db)
