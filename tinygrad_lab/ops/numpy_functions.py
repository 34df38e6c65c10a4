"""NumPy's functions on tensors, with NumPy's meaning, as the ops: ``np.sum(t, axis=0)`` is
``t.sum(axis=0)``, ``np.var(t)`` divides by n (NumPy's default), ``np.transpose(t, axes)`` is a
permutation, ``np.concatenate([t, u])`` and ``np.where(c, t, 0)`` stay in the graph.

Each function here is called with the arguments NumPy's own takes (bound to its signature); one
this module does not take (``out=``, ``dtype=``, ...) is an error naming it. A NumPy function
not listed computes on the values, outside the graph (``numpy_interop.outside_graph``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lab.numpy_interop import ARRAY_FUNCTIONS
from tinygrad_lab.ops.einsum import einsum
from tinygrad_lab.ops.indexing import where
from tinygrad_lab.ops.movement import Expand, cat, dim_index, stack
from tinygrad_lab.tensor import Tensor

__all__: list[str] = []


def numpy_function(*functions: Callable) -> Callable:
    """Register the decorated function as the version on tensors of NumPy's ``functions``."""

    def register(ours: Callable) -> Callable:
        for function in functions:
            ARRAY_FUNCTIONS[function] = functools.partial(_call, function, ours)
        return ours

    return register


def _call(function: Callable, ours: Callable, *args: Any, **kwargs: Any) -> Any:
    """``ours`` with the arguments of NumPy's ``function`` bound by name; one that ``ours``
    does not take, given, is an error."""
    name = f"np.{function.__name__}"
    try:
        given = dict(inspect.signature(function).bind(*args, **kwargs).arguments)
    except TypeError as err:
        raise TypeError(f"{name}: {err}") from None
    taken = inspect.signature(ours).parameters
    refused = [k for k, v in given.items() if k not in taken and not _empty(v)]
    if refused:
        raise TypeError(
            f"{name} on a Tensor takes no {', '.join(f'{k}=' for k in refused)}; call it on "
            f"the values ({name}(t.data)) to compute outside the graph"
        )
    return ours(**{k: v for k, v in given.items() if k in taken}, name=name)


def _empty(value: Any) -> bool:
    """None, or nothing (an empty ``**kwargs``): an argument that asks for nothing."""
    return value is None or (isinstance(value, dict | tuple) and not value)


def _tensor(a: Any) -> Tensor:
    return a if isinstance(a, Tensor) else Tensor(a)


def _axis(name: str, axis: Any) -> Any:
    if isinstance(axis, tuple | list) and len(axis) == 0:
        raise ValueError(
            f"{name}(t, axis=()) reduces over no axis in NumPy, and over every axis in PyTorch "
            "(and the Tensor's methods); say which: axis=None for every axis"
        )
    return axis


# NumPy's reductions and the methods that are they (np.max takes any axes, as amax does)
_REDUCTIONS = {"np.sum": "sum", "np.mean": "mean", "np.prod": "prod", "np.max": "amax"}
_REDUCTIONS |= {"np.amax": "amax", "np.min": "amin", "np.amin": "amin"}


@numpy_function(np.sum, np.mean, np.prod, np.max, np.amax, np.min, np.amin)
def _reduce(a: Any, axis: Any = None, keepdims: Any = None, *, name: str) -> Tensor:
    method = getattr(_tensor(a), _REDUCTIONS[name])
    return method(axis=_axis(name, axis), keepdims=bool(keepdims))


@numpy_function(np.var, np.std)
def _spread(a: Any, axis: Any = None, ddof: float = 0, keepdims: Any = None, *, name: str) -> Any:
    method = getattr(_tensor(a), name[3:])
    return method(axis=_axis(name, axis), keepdims=bool(keepdims), correction=ddof)


@numpy_function(np.cumsum, np.cumprod)
def _running(a: Any, axis: Any = None, *, name: str) -> Tensor:
    return getattr(_tensor(a), name[3:])(axis=axis)


@numpy_function(np.reshape)
def _reshape(a: Any, shape: Any, *, name: str) -> Tensor:
    return _tensor(a).reshape(shape)


@numpy_function(np.transpose, np.permute_dims)
def _transpose(a: Any, axes: Any = None, *, name: str) -> Tensor:
    a = _tensor(a)
    return a.T if axes is None else a.permute(*axes)


@numpy_function(np.swapaxes)
def _swapaxes(a: Any, axis1: int, axis2: int, *, name: str) -> Tensor:
    return _tensor(a).transpose(axis1, axis2)


@numpy_function(np.moveaxis)
def _moveaxis(a: Any, source: Any, destination: Any, *, name: str) -> Tensor:
    a = _tensor(a)
    sources = (source,) if np.ndim(source) == 0 else tuple(source)
    destinations = (destination,) if np.ndim(destination) == 0 else tuple(destination)
    if len(sources) != len(destinations):
        raise ValueError(f"{name}: source {source} and destination {destination} differ in length")
    moved = [dim_index(name, d, a.ndim) for d in sources]
    places = [dim_index(name, d, a.ndim) for d in destinations]
    order = [d for d in range(a.ndim) if d not in moved]
    for place, axis in sorted(zip(places, moved, strict=True)):  # NumPy's own way
        order.insert(place, axis)
    return a.permute(*order)


@numpy_function(np.flip)
def _flip(m: Any, axis: Any = None, *, name: str) -> Tensor:
    m = _tensor(m)
    axes = range(m.ndim) if axis is None else (axis,) if np.ndim(axis) == 0 else axis
    flipped = {dim_index(name, d, m.ndim) for d in axes}
    return m[tuple(slice(None, None, -1 if d in flipped else 1) for d in range(m.ndim))]


@numpy_function(np.atleast_1d)
def _atleast_1d(arys: tuple, *, name: str) -> Any:
    ones = tuple(a.reshape(1) if a.ndim == 0 else a for a in map(_tensor, arys))
    return ones[0] if len(ones) == 1 else ones


@numpy_function(np.broadcast_to)
def _broadcast_to(array: Any, shape: Any, *, name: str) -> Tensor:
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    return Expand.apply(_tensor(array), shape=tuple(int(n) for n in shape))


@numpy_function(np.zeros_like, np.ones_like)
def _like(a: Any, dtype: Any = None, *, name: str) -> Tensor:
    """A constant, outside the graph (its values do not depend on ``a``'s), as PyTorch's."""
    fill = np.zeros_like if name == "np.zeros_like" else np.ones_like
    return Tensor(fill(np.asarray(getattr(a, "_data", a)), dtype))


@numpy_function(np.squeeze)
def _squeeze(a: Any, axis: Any = None, *, name: str) -> Tensor:
    a = _tensor(a)
    axes = () if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
    if any(a.shape[dim_index(name, d, a.ndim)] != 1 for d in axes):
        raise ValueError(f"{name}: axis {axis} of shape {a.shape} is not of size 1")
    return a.squeeze(axis)


@numpy_function(np.expand_dims)
def _expand_dims(a: Any, axis: Any, *, name: str) -> Tensor:
    a = _tensor(a)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    ndim = a.ndim + len(axes)
    for d in sorted(dim_index(name, d, ndim) for d in axes):
        a = a.unsqueeze(d)
    return a


@numpy_function(np.ravel)
def _ravel(a: Any, *, name: str) -> Tensor:
    return _tensor(a).flatten()


@numpy_function(np.concatenate)
def _concatenate(arrays: Any, axis: Any = 0, *, name: str) -> Tensor:
    if axis is None:  # NumPy's: flatten them first
        return cat([_tensor(a).flatten() for a in arrays])
    return cat(list(arrays), dim=axis)


@numpy_function(np.stack)
def _stack(arrays: Any, axis: int = 0, *, name: str) -> Tensor:
    return stack(list(arrays), dim=axis)


@numpy_function(np.where)
def _where(condition: Any, x: Any = None, y: Any = None, *, name: str) -> Any:
    if x is None and y is None:
        return np.nonzero(np.asarray(getattr(condition, "_data", condition)))  # NumPy's
    return where(condition, x, y)


@numpy_function(np.clip)
def _clip(
    a: Any,
    a_min: Any = None,
    a_max: Any = None,
    min: Any = None,
    max: Any = None,
    *,
    name: str,  # noqa: A002
) -> Tensor:
    return _tensor(a).clip(a_min if min is None else min, a_max if max is None else max)


@numpy_function(np.einsum)
def _einsum(operands: tuple, optimize: Any = None, *, name: str) -> Tensor:
    return einsum(*operands)


@numpy_function(np.tile)
def _tile(A: Any, reps: Any, *, name: str) -> Tensor:  # noqa: N803  (NumPy's name)
    A = _tensor(A)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    return A.repeat(*(1,) * (A.ndim - len(reps)), *reps)


@numpy_function(np.repeat)
def _repeat(a: Any, repeats: int, axis: Any = None, *, name: str) -> Tensor:
    return _tensor(a).repeat_interleave(repeats, dim=axis)


@numpy_function(np.sort)
def _sort(a: Any, axis: Any = -1, *, name: str) -> Tensor:
    a = _tensor(a)
    return a.flatten().sort().values if axis is None else a.sort(dim=axis).values
