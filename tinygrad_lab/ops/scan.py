"""Running sums and products along an axis (over the flattened tensor when the axis is None, as
NumPy does): each output entry is a reduction of the entries up to it."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab.ops.reduce import _axes
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function

__all__ = ["CumSum", "CumProd"]


def _along(ctx: Function, x: np.ndarray, axis: int | None) -> np.ndarray:
    """``x`` as the op runs along it, with ``ctx.axis`` set to that axis and ``ctx.lined`` to
    that shape: the input flattened when ``axis`` is None (as NumPy), and a 0-d input, whose
    axis 0 or -1 PyTorch allows, as one entry."""
    if axis is not None and not isinstance(axis, int | np.integer):
        raise TypeError(f"{ctx.name}: axis must be an int or None, got {axis!r}")
    ctx.shape = x.shape
    if axis is not None:
        _axes(ctx.name, axis, x.ndim)  # in range
    if axis is None or x.ndim == 0:
        ctx.axis, ctx.lined = 0, (x.size,)
        return x.reshape(-1)
    ctx.axis, ctx.lined = int(axis) % x.ndim, x.shape
    return x


def _result(out: np.ndarray, ctx: Function, axis: int | None) -> np.ndarray:
    """The running reduction: flat when ``axis`` is None (as in NumPy), else in the input's
    shape (a 0-d input's too)."""
    return out.reshape(ctx.shape) if axis is not None and out.shape != ctx.shape else out


def _reversed_cumsum(a: Any, axis: int) -> Any:
    """``Σ_{k ≥ i} a_k`` at every i along ``axis``: the running sum from the end."""
    backwards = (slice(None),) * axis + (slice(None, None, -1),)  # reversed along axis
    return np.cumsum(a[backwards], axis)[backwards]


def _lined_up(ctx: Function, v: Any) -> Any:
    """The input, the output or its gradient in the layout the op ran along: flat when the
    input was flattened (`_along`)."""
    return v if v.shape == ctx.lined else v.reshape(ctx.lined)


class CumSum(Function):
    """Running sum. Its backward is a running sum from the end, so it is linear: its second
    derivative is 0."""

    @staticmethod
    def forward(ctx, x, axis=None):
        return _result(np.cumsum(_along(ctx, x, axis), axis=ctx.axis), ctx, axis)

    @staticmethod
    def backward(ctx, grad):
        # y_k = Σ_{j≤k} x_j, so dy_k/dx_i = 1 for every k ≥ i: dx_i = Σ_{k≥i} grad_k
        return _reversed_cumsum(_lined_up(ctx, grad), ctx.axis).reshape(ctx.shape)


register("cumsum", CumSum)


class CumProd(Function):
    """Running product. Its gradient divides by x only where no entry is 0; with a zero it
    multiplies instead, along the axis (slower, never NaN, and its own derivatives are right
    at the zeros too)."""

    @staticmethod
    def forward(ctx, x, axis=None):
        out = np.cumprod(_along(ctx, x, axis), axis=ctx.axis)
        result = _result(out, ctx, axis)
        ctx.save_for_backward(x, result)  # (the input and output themselves, not views)
        return result

    @staticmethod
    def backward(ctx, grad):
        # along the axis: flat when the input was flattened (axis None, or a 0-d input)
        x, out, grad = (_lined_up(ctx, v) for v in (*ctx.saved_tensors, grad))
        # dy_k/dx_i = ∏_{j≤k, j≠i} x_j = y_k / x_i for k ≥ i, so dx_i = Σ_{k≥i} grad_k y_k / x_i
        if (np.asarray(x) == 0).any():
            return _products_of_the_others(x, grad, ctx.axis).reshape(ctx.shape)
        return (_reversed_cumsum(grad * out, ctx.axis) / x).reshape(ctx.shape)


def _products_of_the_others(x: Any, grad: Any, axis: int) -> Any:
    """dx_i = Σ_{k≥i} grad_k ∏_{j≤k, j≠i} x_j without dividing by x_i (which may be 0): it is
    (∏_{j<i} x_j) · h_i, where h_i = Σ_{k≥i} grad_k ∏_{i<j≤k} x_j = grad_i + x_{i+1} h_{i+1}.
    One pass from the end for h, one from the start for the products before i."""

    def at(v: Any, i: int) -> Any:  # entry i along the axis
        return v[(slice(None),) * axis + (i,)]

    n = x.shape[axis]
    h = [at(grad, n - 1)]
    for i in range(n - 2, -1, -1):
        h.append(at(grad, i) + at(x, i + 1) * h[-1])
    h.reverse()
    dx, before = [h[0]], None  # (nothing before entry 0: a product of 1)
    for i in range(1, n):
        before = at(x, 0) if before is None else before * at(x, i - 1)
        dx.append(before * h[i])
    return np.stack(dx, axis=axis)


register("cumprod", CumProd)
