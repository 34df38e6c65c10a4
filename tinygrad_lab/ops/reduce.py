"""Reductions along axes, and the numerically stable softmax family."""

from __future__ import annotations

import numpy as np

from tinygrad_lab.tensor import Function, Tensor

__all__ = ["Sum", "Mean", "Max", "Min", "Softmax", "LogSoftmax", "LogSumExp", "variance"]


def _axes(op: str, axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple; negatives allowed) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else axis
    if not isinstance(axes, tuple | list) or not all(isinstance(a, int | np.integer) for a in axes):
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimensions")
    normal = tuple(sorted(int(a) % ndim for a in axes))
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op}: axis {axis} repeats an axis")
    return normal


def _expand(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Give a reduced gradient back its reduced axes (size 1), so it broadcasts to the input."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = _axes("Sum", axis, x.ndim), keepdims, x.shape
        return x.sum(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        # every input element contributes once: d(sum)/dx = 1
        return np.broadcast_to(_expand(grad, ctx.axes, ctx.keepdims), ctx.shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = _axes("Mean", axis, x.ndim), keepdims, x.shape
        if x.size == 0:
            raise ValueError(f"Mean: the mean of an empty tensor {x.shape} is undefined")
        ctx.count = int(np.prod([x.shape[a] for a in ctx.axes]))
        return x.mean(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        # d(mean)/dx = 1/n for each of the n elements averaged
        return np.broadcast_to(_expand(grad, ctx.axes, ctx.keepdims) / ctx.count, ctx.shape)


def _extreme(ctx, x, axis, keepdims, reduce) -> np.ndarray:
    """Forward of Max and Min: the extreme entries, with what backward needs saved."""
    ctx.axes, ctx.keepdims = _axes(ctx.name, axis, x.ndim), keepdims
    if any(x.shape[a] == 0 for a in ctx.axes):
        raise ValueError(f"{ctx.name}: cannot reduce an empty axis of shape {x.shape}")
    out = reduce(x, axis=ctx.axes, keepdims=True)
    ctx.save_for_backward(x, out)
    return out if keepdims else np.squeeze(out, ctx.axes)


def _share(ctx, grad) -> np.ndarray:
    """Backward of Max and Min: each of k tied extremes gets grad / k, the others nothing."""
    x, out = ctx.saved_tensors
    winners = x == out
    return (
        winners / winners.sum(axis=ctx.axes, keepdims=True) * _expand(grad, ctx.axes, ctx.keepdims)
    )


class Max(Function):
    """Largest entry. Ties share the gradient equally: each of k tied maxima gets grad / k."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extreme(ctx, x, axis, keepdims, np.max)

    @staticmethod
    def backward(ctx, grad):
        return _share(ctx, grad)


class Min(Function):
    """Smallest entry. Ties share the gradient equally, as in ``Max``."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return _extreme(ctx, x, axis, keepdims, np.min)

    @staticmethod
    def backward(ctx, grad):
        return _share(ctx, grad)


def _shifted(x: np.ndarray, axis: tuple[int, ...] | None) -> np.ndarray:
    """x minus its max along ``axis``: exp of it cannot overflow (the stable softmax trick).
    Over an empty axis the max is -inf, so the result is as empty as NumPy's and PyTorch's."""
    return x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = _axes("Softmax", axis, x.ndim) if x.ndim else None
        e = np.exp(_shifted(x, ctx.axis))
        out = e / e.sum(axis=ctx.axis, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        # Jacobian diag(s) - s sᵀ applied to grad: s * (grad - <grad, s>)
        return s * (grad - (grad * s).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = _axes("LogSoftmax", axis, x.ndim) if x.ndim else None
        z = _shifted(x, ctx.axis)
        with np.errstate(divide="ignore"):  # log(0): only over an empty axis, empty result
            out = z - np.log(np.exp(z).sum(axis=ctx.axis, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        # d(x - logsumexp x) = grad - softmax * sum(grad)
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axis=-1, keepdims=False):
        ctx.axes, ctx.keepdims = _axes("LogSumExp", axis, x.ndim), keepdims
        m = np.max(x, axis=ctx.axes, keepdims=True, initial=-np.inf)
        with np.errstate(divide="ignore"):  # log(0) = -inf: the logsumexp of an empty axis
            out = m + np.log(np.exp(x - m).sum(axis=ctx.axes, keepdims=True))
        ctx.save_for_backward(x, out)
        return out if keepdims else np.squeeze(out, ctx.axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return np.exp(x - out) * _expand(grad, ctx.axes, ctx.keepdims)  # d(lse)/dx = softmax


# An op built from other ops: no backward of its own, its gradient comes free by composition.
def variance(x: Tensor, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """``mean((x - mean(x))²)`` over ``axis``, divided by ``n - ddof`` instead of ``n``."""
    axes = _axes("var", axis, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes]))
    if count - ddof <= 0:
        raise ValueError(f"var: {count} entries with ddof={ddof} leave no degree of freedom")
    deviation = x - x.mean(axis=axes, keepdims=True)
    return (deviation * deviation).sum(axis=axes, keepdims=keepdims) / (count - ddof)
