"""Choosing entries by their order: ``max`` and ``min`` along a dimension, ``sort``, ``topk``,
``kthvalue``, ``median``, ``mode``, ``argmax`` and ``argmin``.

Along a dimension these return PyTorch's pair ``(values, indices)`` (`ValuesIndices`): the
values are the chosen entries picked by `Gather`, in the graph, so each one's gradient goes to
the entry it came from, as in PyTorch; the indices are float64 tensors (tensors hold floats)
outside the graph, and index as integers do. Without a dimension, ``max``, ``min`` and
``median`` return the one value, whose gradient ties share equally (as PyTorch's).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tinygrad_lab.ops.indexing import gather
from tinygrad_lab.ops.movement import dim_index
from tinygrad_lab.ops.reduce import Max, Min, _axes, _share
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = ["ValuesIndices", "Median", "argmax", "argmin"]


class ValuesIndices(NamedTuple):
    """``(values, indices)``, as PyTorch's ``torch.return_types``: ``v, i = x.max(dim=1)``."""

    values: Tensor
    indices: Tensor


def _picked(x: Tensor, d: int, index: np.ndarray, keepdims: bool) -> ValuesIndices:
    """The entries of ``x`` at ``index`` along dimension ``d`` (an index of x's rank), and the
    index, with dimension ``d`` dropped unless ``keepdims``."""
    index = index.reshape(x.shape) if x.ndim == 0 else index
    values, indices = gather(x, d, index), Tensor(index.astype(np.float64))
    if keepdims or x.ndim == 0:
        return ValuesIndices(values, indices)
    return ValuesIndices(values.squeeze(d), indices.squeeze(d))


def _along(op: str, x: Tensor, dim: Any) -> tuple[np.ndarray, int]:
    """``x``'s values (a 0-d tensor as one entry) and ``dim`` as an index; an empty dimension
    has nothing to choose."""
    d = dim_index(op, dim, x.ndim)
    values = x.data.reshape(1) if x.ndim == 0 else x.data
    if values.shape[d] == 0:
        raise ValueError(f"{op}: cannot reduce an empty axis ({dim}) of shape {x.shape}")
    return values, d


def _max_or_min(op: str, reduce: type[Function], pair: str, pick: Any) -> Any:
    def method(x: Tensor, axis: Any = None, keepdims: bool = False) -> Any:
        if isinstance(axis, Tensor | np.ndarray):  # PyTorch's max(other): element-wise
            return getattr(x, pair)(axis)
        if axis is None:
            return reduce.apply(x, axis=None, keepdims=keepdims)
        if isinstance(axis, tuple | list):
            raise TypeError(
                f"{op}: dim={axis!r}; {op}(dim) takes one dimension and returns (values, "
                f"indices), as PyTorch's; for the {op} over several dimensions use "
                f"a{op}(dim={tuple(axis)})"
            )
        values, d = _along(op, x, axis)
        return _picked(x, d, pick(values, axis=d, keepdims=True), keepdims)

    method.__doc__ = (
        f"The {op} entry: of the whole tensor (one value, a 0-d tensor), or along ``dim`` the "
        f"pair (values, indices), as PyTorch (for several dimensions, ``a{op}``); with "
        f"another tensor, the element-wise ``{pair}``."
    )
    return method


register("max", Max, method=_max_or_min("max", Max, "maximum", np.argmax))
register("min", Min, method=_max_or_min("min", Min, "minimum", np.argmin))


def _order(values: np.ndarray, d: int, descending: bool) -> np.ndarray:
    """The indices that sort ``values`` along ``d``; ties keep their order either way, and NaN
    counts as the largest (as PyTorch)."""
    if not descending:
        return np.argsort(values, axis=d, kind="stable")
    # sort the reversed values ascending, then read that backwards: ties stay in order
    backwards = np.argsort(np.flip(values, d), axis=d, kind="stable")
    return values.shape[d] - 1 - np.flip(backwards, d)


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """The entries along ``dim`` in order, and where each came from: ``(values, indices)``, as
    PyTorch (NumPy's ``sort`` sorts in place and returns None). The sort is always stable."""
    if not isinstance(descending, bool | np.bool_):
        raise TypeError(
            f"sort: descending={descending!r}; this is PyTorch's sort(dim, descending, stable) "
            "(NumPy's second argument, kind, is not taken: the sort is stable)"
        )
    values, d = _along("sort", x, dim) if x.size else (x.data, dim_index("sort", dim, x.ndim))
    return _picked(x, d, _order(values, d, descending), keepdims=True)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest entries along ``dim`` (smallest with ``largest=False``), largest first,
    and their indices, as PyTorch."""
    values, d = _along("topk", x, dim)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= values.shape[d]:
        raise ValueError(f"topk: k={k!r} is not in 0..{values.shape[d]} (dimension {dim})")
    order = np.take(_order(values, d, descending=largest), np.arange(k), axis=d)
    return _picked(x, d, order, keepdims=True)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The ``k``-th smallest entry along ``dim`` (``k`` from 1) and its index, as PyTorch."""
    values, d = _along("kthvalue", x, dim)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= values.shape[d]:
        raise ValueError(f"kthvalue: k={k!r} is not in 1..{values.shape[d]} (dimension {dim})")
    order = np.take(_order(values, d, descending=False), [k - 1], axis=d)
    return _picked(x, d, order, keepdim)


class Median(Function):
    """The median of every entry: the lower of the two middle ones for an even count, as
    PyTorch (NumPy's ``median`` averages them); NaN if there is one. Ties share the gradient;
    the second derivative is 0, as `Max`'s."""

    @staticmethod
    def forward(ctx, x):
        if x.size == 0:
            raise ValueError("Median: the median of no entries is undefined")
        ctx.axes, ctx.keepdims = _axes("Median", None, x.ndim), False
        flat = np.sort(x, axis=None)  # NaN sorts last: the median is NaN if the last is
        out = np.asarray(flat[-1] if np.isnan(flat[-1]) else flat[(x.size - 1) // 2])
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        return _share(ctx, grad)  # as Max: the entries equal to it share the gradient


def median(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median, as PyTorch: of every entry (a 0-d tensor), or along ``dim`` the pair
    (values, indices). NaN if the entries hold one."""
    if dim is None:
        return Median.apply(x)
    values, d = _along("median", x, dim)
    order = np.take(_order(values, d, descending=False), [(values.shape[d] - 1) // 2], axis=d)
    has_nan = np.isnan(values).any(axis=d, keepdims=True)  # then the median is the first NaN
    order = np.where(has_nan, np.argmax(np.isnan(values), axis=d, keepdims=True), order)
    return _picked(x, d, order, keepdim)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent entry along ``dim`` (the smallest of equally frequent ones) and the
    index of its last occurrence, as PyTorch."""
    values, d = _along("mode", x, dim)
    last = np.moveaxis(values, d, -1)
    counts = (last[..., :, None] == last[..., None, :]).sum(axis=-1)  # how often each occurs
    most = counts == counts.max(axis=-1, keepdims=True)
    chosen = np.where(most, last, np.inf).min(axis=-1, keepdims=True)
    n = last.shape[-1]
    index = n - 1 - np.argmax((last == chosen)[..., ::-1], axis=-1, keepdims=True)
    return _picked(x, d, np.moveaxis(index, -1, d), keepdim)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that `sort` the entries along ``dim``, as PyTorch's ``argsort``."""
    return sort(x, dim, descending, stable).indices


register("sort", method=sort)
register("argsort", method=argsort)
register("topk", method=topk)
register("kthvalue", method=kthvalue)
register("median", Median, method=median)
register("mode", method=mode)


def _arg(reduce, op: str, x: Tensor, axis: int | None, keepdims: bool) -> Tensor:
    """Where the extreme entry is, as a float64 Tensor of indices (tensors hold floats), outside
    the graph: an index has no gradient, as a comparison has none. Ties give the first."""
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, int | np.integer)):
        raise TypeError(f"{op}: axis must be an int or None, got {axis!r}")
    if axis is not None:
        _axes(op, axis, x.ndim)  # in range
        axis = axis if x.ndim else None  # (a 0-d tensor's axis 0, as in PyTorch)
    try:
        index = reduce(x.data, axis=axis, keepdims=keepdims)
    except ValueError:
        raise ValueError(f"{op}: cannot reduce an empty axis of shape {x.shape}") from None
    return Tensor(np.asarray(index, dtype=np.float64))


def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest entry (of the flattened tensor when ``axis`` is None)."""
    return _arg(np.argmax, "argmax", x, axis, keepdims)


def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest entry (of the flattened tensor when ``axis`` is None)."""
    return _arg(np.argmin, "argmin", x, axis, keepdims)


register("argmax", method=argmax)
register("argmin", method=argmin)
