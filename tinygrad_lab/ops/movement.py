"""Ops that move entries around without arithmetic: their backward moves the gradient back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_lab.numpy_interop import plain_index
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = ["Reshape", "Transpose", "GetItem", "Concatenate", "Stack", "Pad"]
__all__ += ["ModuleInput", "getitem", "concatenate", "stack"]


def _sizes(values: tuple) -> tuple:
    """``f(2, 3)`` or ``f((2, 3))``: the numbers either way, as PyTorch and NumPy take them."""
    if len(values) == 1 and not isinstance(values[0], int | np.integer):
        return tuple(values[0])
    return values


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"Reshape: cannot reshape {x.shape} ({x.size} elements) into {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


def reshape(x: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """The same entries in another shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
    return Reshape.apply(x, shape=tuple(int(n) for n in _sizes(shape)))


register("reshape", Reshape, method=reshape, aliases=("view",))


class Transpose(Function):
    """Permute axes (reverse them when ``axes`` is None)."""

    @staticmethod
    def forward(ctx, x, axes=None):
        if axes is not None and sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(
                f"Transpose: axes {tuple(axes)} are not a permutation of the "
                f"{x.ndim} axes of shape {x.shape}"
            )
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        inverse = None if ctx.axes is None else np.argsort([a % grad.ndim for a in ctx.axes])
        return np.transpose(grad, inverse)


def transpose(x: Tensor, *axes: int | Sequence[int]) -> Tensor:
    """Permute the axes (``x.transpose(1, 0)``, or ``((1, 0))``); reverse them when none given."""
    return Transpose.apply(x, axes=tuple(_sizes(axes)) or None)


register("transpose", Transpose, method=transpose)
register("T", method=property(lambda x: Transpose.apply(x, axes=None), doc="Axes reversed."))


def _is_basic(index) -> bool:
    """True for indexes of ints, slices, None and Ellipsis only (no repeated positions)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, int | slice | type(None) | type(Ellipsis)) for p in parts)


class GetItem(Function):
    """``x[index]``: slices, ints, integer and boolean arrays (``index`` is a setting, never
    differentiated). Repeated integer indices pick an entry several times, so its gradient is
    the sum of theirs."""

    @staticmethod
    def forward(ctx, x, index):
        if isinstance(index, list):
            index = np.asarray(index)
            if index.size == 0:  # [] is a list of no integers (NumPy's reading), not of floats
                index = index.astype(np.intp)
        ctx.index, ctx.shape = index, x.shape
        try:
            return x[index]
        except IndexError as err:
            raise IndexError(
                f"GetItem: index {index!r} does not fit shape {x.shape}: {err}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        if _is_basic(ctx.index):
            out[ctx.index] = grad
        else:
            np.add.at(out, ctx.index, grad)  # unbuffered: repeated indices accumulate
        return out


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` (the operator): a Tensor in the index counts by its values."""
    return GetItem.apply(x, index=plain_index(index))


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("Concatenate: needs at least one tensor")
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] if x.ndim else 0 for x in xs]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        cuts = np.cumsum(ctx.sizes)[:-1]
        return tuple(np.split(grad, cuts, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("Stack: needs at least one tensor")
        ctx.axis = axis
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``np.concatenate``), differentiably."""
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis (``np.stack``), differentiably."""
    return Stack.apply(*tensors, axis=axis)


class Pad(Function):
    """Surround ``x`` with a constant: ``widths`` holds one (before, after) pair of whole
    numbers >= 0 per axis, as ``np.pad`` takes them."""

    @staticmethod
    def forward(ctx, x, widths, value=0.0):
        widths = tuple((int(before), int(after)) for before, after in widths)
        if len(widths) != x.ndim or min((w for pair in widths for w in pair), default=0) < 0:
            raise ValueError(
                f"Pad: widths {widths} must be one (before, after) pair >= 0 for each of the "
                f"{x.ndim} axes of shape {x.shape}"
            )
        ctx.inside = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape, strict=True))
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inside]  # the padding is constant: the gradient of x is what lies over x


class ModuleInput(Function):
    """Identity node at a module's input, so a full backward hook sees the gradient of that
    input as it leaves the module (not summed with other uses of the same tensor)."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad  # d(x)/dx = 1
