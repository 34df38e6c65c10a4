"""Running sums and products along an axis (over the flattened tensor when the axis is None, as
NumPy does): each output entry is a reduction of the entries up to it."""

from __future__ import annotations

import numpy as np

from tinygrad_lab.ops.reduce import _axes
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function

__all__ = ["CumSum", "CumProd"]


def _along(ctx: Function, x: np.ndarray, axis: int | None) -> np.ndarray:
    """``x`` with ``ctx.axis`` set to the axis to run along: the input flattened when ``axis``
    is None (as NumPy), and a 0-d input, whose axis 0 or -1 PyTorch allows, as one entry."""
    if axis is not None and not isinstance(axis, int | np.integer):
        raise TypeError(f"{ctx.name}: axis must be an int or None, got {axis!r}")
    ctx.shape = x.shape
    if axis is not None:
        _axes(ctx.name, axis, x.ndim)  # in range
    if axis is None or x.ndim == 0:
        ctx.axis = 0
        return x.reshape(-1)
    ctx.axis = int(axis) % x.ndim
    return x


def _result(out: np.ndarray, ctx: Function, axis: int | None) -> np.ndarray:
    """The running reduction: flat when ``axis`` is None (as in NumPy), else in the input's
    shape (a 0-d input's too)."""
    return out.reshape(ctx.shape) if axis is not None and out.shape != ctx.shape else out


def _reversed_cumsum(a: np.ndarray, axis: int) -> np.ndarray:
    """``Σ_{k ≥ i} a_k`` at every i along ``axis``: the running sum from the end."""
    return np.flip(np.cumsum(np.flip(a, axis), axis), axis)


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, axis=None):
        return _result(np.cumsum(_along(ctx, x, axis), axis=ctx.axis), ctx, axis)

    @staticmethod
    def backward(ctx, grad):
        # y_k = Σ_{j≤k} x_j, so dy_k/dx_i = 1 for every k ≥ i: dx_i = Σ_{k≥i} grad_k
        # (a 0-d input's gradient runs along its one entry: atleast_1d)
        return _reversed_cumsum(np.atleast_1d(grad), ctx.axis).reshape(ctx.shape)


register("cumsum", CumSum)


class CumProd(Function):
    """Running product. Its gradient divides by x only where that is exact: a zero entry, and
    everything after it, get theirs without dividing (so never NaN)."""

    @staticmethod
    def forward(ctx, x, axis=None):
        x = _along(ctx, x, axis)
        out = np.cumprod(x, axis=ctx.axis)
        ctx.save_for_backward(x, out)
        return _result(out, ctx, axis)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        a = ctx.axis
        # dy_k/dx_i = ∏_{j≤k, j≠i} x_j = y_k / x_i for k ≥ i, so dx_i = Σ_{k≥i} grad_k y_k / x_i
        summed = _reversed_cumsum(grad * out, a)
        zeros = x == 0
        if not zeros.any():
            return (summed / x).reshape(ctx.shape)
        # Along a line whose first zero is at z: before z the formula holds; after z every
        # product of the others has x_z = 0 in it; at z, it is the running product with x_z
        # taken as 1 (each y_k, k ≥ z, without its factor x_z).
        seen = np.cumsum(zeros, axis=a)  # zeros up to here, this entry included
        first = zeros & (seen == 1)
        dx = np.divide(summed, x, out=np.zeros_like(summed), where=seen == 0)
        at_first = _reversed_cumsum(grad * np.cumprod(np.where(first, 1, x), axis=a), a)
        return np.where(first, at_first, dx).reshape(ctx.shape)


register("cumprod", CumProd)
