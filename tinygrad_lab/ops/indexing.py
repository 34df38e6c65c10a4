"""Picking and placing entries: ``gather``, ``where`` and ``masked_fill``, the pieces of
``split``, ``chunk`` and ``unbind``, and ``x[index] = value`` on a tensor of the graph, which is
recorded as the op `IndexPut` (PyTorch's ``index_put_``).

An index is whole numbers: an integer ndarray or list, or a Tensor holding whole numbers
(tensors hold floats; an index tensor from ``argmax`` or ``sort`` is float64).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_lab import differentiable, grad_mode, integrity
from tinygrad_lab.numpy_interop import plain_index
from tinygrad_lab.ops.movement import AddAt, dim_index, is_basic
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = ["Gather", "Where", "IndexPut", "gather", "where", "setitem"]


def index_array(op: str, index: Any) -> np.ndarray:
    """``index`` (a Tensor, an ndarray or a list of whole numbers) as an integer ndarray."""
    array = np.asarray(getattr(index, "_data", index))
    if array.dtype.kind in "iu":
        return array.astype(np.intp)
    if array.dtype.kind != "f" or not np.array_equal(array, np.round(array)):
        raise TypeError(f"{op}: an index holds whole numbers, got {array.dtype} {array!r}")
    return array.astype(np.intp)


# ------------------------------------------------------------------------------ Gather
class Gather(Function):
    """Along ``dim``, the entries ``index`` names; every other position as it is. For a 2-D
    ``x`` and dim 1: ``out[i, j] = x[i, index[i, j]]`` (PyTorch's ``gather``). Repeated
    indices pick an entry several times, so its gradient is the sum of theirs."""

    @staticmethod
    def forward(ctx, x, dim, index):
        too_big = [d for d in range(x.ndim) if d != dim and index.shape[d] > x.shape[d]]
        if index.ndim != x.ndim or too_big:
            raise ValueError(
                f"Gather: index of shape {index.shape} for input {x.shape} along dim {dim}: "
                "it needs the input's number of dimensions, and no other dimension larger"
            )
        if index.size and (index.min() < 0 or index.max() >= x.shape[dim]):
            raise IndexError(
                f"Gather: index holds {index.min()}..{index.max()}, outside 0..{x.shape[dim] - 1} "
                f"(dimension {dim} of shape {x.shape}; PyTorch takes no negative index here)"
            )
        positions = list(np.indices(index.shape, sparse=True))  # every other axis: itself
        positions[dim] = index
        ctx.positions, ctx.shape = tuple(positions), x.shape
        return x[ctx.positions]

    @staticmethod
    def backward(ctx, grad):
        # each pick sends its gradient to its entry (a pick's gradient: picked back)
        return differentiable.call(AddAt, grad, index=ctx.positions, shape=ctx.shape)


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """``x.gather(dim, index)``, as PyTorch: along ``dim``, the entries ``index`` names."""
    if x.ndim == 0:  # (a 0-d tensor and a 0-d index, as PyTorch allows)
        return gather(x.reshape(1), dim, index_array("gather", index).reshape(1)).reshape(())
    return Gather.apply(x, dim=dim_index("gather", dim, x.ndim), index=index_array("gather", index))


register("gather", Gather, method=gather)


# ------------------------------------------------------------------------------ Where
class Where(Function):
    """``a`` where ``condition`` holds, ``b`` elsewhere (the three broadcast together). The
    gradient goes to ``a`` where the condition holds and to ``b`` elsewhere."""

    @staticmethod
    def forward(ctx, condition, a, b):
        if condition.dtype != bool:
            raise TypeError(
                f"Where: the condition must be a bool tensor (a comparison, a mask), got "
                f"{condition.dtype}, as in PyTorch; NumPy would read any number but 0 as "
                "True: write (c != 0) for that"
            )
        ctx.save_for_backward(condition)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        needs = ctx.needs_input_grad
        da = np.where(condition, grad, 0) if needs[1] else None  # d/da = 1 where it holds
        db = np.where(condition, 0, grad) if needs[2] else None  # d/db = 1 elsewhere
        return None, da, db


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``input`` where ``condition`` holds, else ``other``, differentiably, as ``torch.where``
    (numbers welcome on either side). With the condition alone: the indices of its True
    entries, one float64 tensor per dimension, as ``torch.where(c)`` and ``np.nonzero``."""
    if input is None and other is None:
        found = np.nonzero(np.asarray(getattr(condition, "_data", condition)))
        return tuple(Tensor(i.astype(np.float64)) for i in found)
    if input is None or other is None:
        raise TypeError("where: give where(condition, input, other), or the condition alone")
    return Where.apply(condition, input, other)


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``value`` where ``mask`` (a bool tensor broadcasting to x's shape) is True, x elsewhere,
    as PyTorch; the gradient reaches x where the mask is False (and a 0-d tensor value)."""
    mask = mask if isinstance(mask, Tensor) else Tensor(mask)
    if np.ndim(getattr(value, "_data", value)) != 0:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got {value!r}")
    if np.broadcast_shapes(mask.shape, x.shape) != x.shape:
        raise ValueError(
            f"masked_fill: a mask of shape {mask.shape} does not broadcast to the tensor's "
            f"shape {x.shape}"
        )
    return Where.apply(mask, value, x)


register("where", Where, method=lambda x, condition, other: Where.apply(condition, x, other))
register("masked_fill", Where, method=masked_fill)


# ------------------------------------------------------------------------------ pieces
def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """Entries ``start`` to ``start + length`` along ``dim`` (a `GetItem` of a slice)."""
    d = dim_index("narrow", dim, x.ndim)
    size = x.shape[d]
    first = start + size if start < 0 else start  # a negative start counts from the end
    if not (0 <= first <= size and 0 <= length <= size - first):
        raise IndexError(
            f"narrow: start {start} and length {length} do not fit dimension {dim} of size "
            f"{size} (shape {x.shape})"
        )
    return x[(slice(None),) * d + (slice(first, first + length),)]


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Pieces along ``dim``, as PyTorch: of ``split_size`` entries each (the last may be
    smaller), or of the sizes in a list. (NumPy's ``np.split`` takes how many pieces, or where
    to cut: not this.)"""
    d = dim_index("split", dim, x.ndim)
    n = x.shape[d]
    sizes = split_size_or_sections
    if isinstance(sizes, int | np.integer) and not isinstance(sizes, bool):
        if sizes <= 0:
            raise ValueError(f"split: split_size must be > 0, got {sizes}")
        sizes = [min(sizes, n - start) for start in range(0, n, sizes)] or [0]
    sizes = [int(s) for s in sizes]
    if sum(sizes) != n or min(sizes, default=0) < 0:
        raise ValueError(
            f"split: sizes {sizes} must add up to {n}, the size of dimension {dim} (PyTorch's "
            "split takes the pieces' sizes; NumPy's np.split takes where to cut)"
        )
    starts = np.cumsum([0, *sizes[:-1]])
    return tuple(narrow(x, d, int(s), n_) for s, n_ in zip(starts, sizes, strict=True))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces along ``dim``, each ``ceil(n / chunks)`` entries but the last,
    as PyTorch (so there may be fewer pieces than asked)."""
    if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a whole number > 0, got {chunks!r}")
    n = x.shape[dim_index("chunk", dim, x.ndim)]
    if n == 0:
        return (x,) * chunks
    return split(x, -(-n // chunks), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, that dimension dropped: ``x.unbind(0)`` is ``tuple(x)``."""
    if x.ndim == 0:
        raise TypeError("unbind: a 0-d tensor has no dimension to take apart")
    d = dim_index("unbind", dim, x.ndim)
    return tuple(x[(slice(None),) * d + (i,)] for i in range(x.shape[d]))


register("narrow", method=narrow)
register("split", method=split)
register("chunk", method=chunk)
register("unbind", method=unbind)


# ------------------------------------------------------------------------------ IndexPut
class IndexPut(Function):
    """``x[index] = value``, written into x's own array, as the node PyTorch records for it
    (``index_put_``): the written entries come from ``value``, the others from ``x``. A value
    written twice to one place (a repeated index) counts where it landed last, as NumPy."""

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index, ctx.value_shape, ctx.won = index, value.shape, None
        try:
            places = x[index].shape
        except IndexError as err:
            raise IndexError(
                f"IndexPut: index {index!r} does not fit shape {x.shape}: {err}"
            ) from None
        if not is_basic(index):  # a repeated index: which of its writes landed last
            order = np.arange(int(np.prod(places))).reshape(places)
            landed = np.full(x.shape, -1, dtype=np.intp)
            landed[index] = order
            ctx.won = landed[index] == order
        x[index] = value
        return x

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        dx = dvalue = None
        if needs[0]:  # a written entry no longer depends on x: d/dx = 0 there, 1 elsewhere
            kept = np.ones(grad.shape, dtype=bool)
            kept[ctx.index] = False
            dx = np.where(kept, grad, 0)
        if needs[1]:  # d/dvalue = 1 at the entries it wrote (the engine sums a broadcast one)
            dvalue = grad[ctx.index] if ctx.won is None else grad[ctx.index] * ctx.won
            if dvalue.ndim < len(ctx.value_shape):  # a value with leading 1s NumPy dropped
                dvalue = dvalue.reshape((1,) * (len(ctx.value_shape) - dvalue.ndim) + dvalue.shape)
        return dx, dvalue


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``, in place. A write that a gradient passes through (into a tensor of
    the graph, or of a value that requires grad) is recorded as `IndexPut`, and ``x`` becomes
    its output, as PyTorch does; into a leaf that requires grad it is an error, as there."""
    index = plain_index(index)
    through_graph = grad_mode.state.grad_enabled and (
        x.requires_grad or bool(getattr(value, "requires_grad", False))
    )
    if not through_graph:
        integrity.write_items(x, index, value)
        return
    integrity.check_graph_write(x, "__setitem__")
    before = Tensor._new(x._data, x._ctx)  # x as it was, for the ops that used it already
    before.requires_grad = x.requires_grad
    value = value if isinstance(value, Tensor) else x._lift(value)
    integrity.rebase(x, IndexPut.apply(before, value, index=index))
