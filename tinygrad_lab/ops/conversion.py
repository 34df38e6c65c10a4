"""Copies and dtypes: ``clone()``, and ``to(dtype)``, ``float()`` (float32, as PyTorch's) and
``double()`` (float64). Both are identities to the gradient, so both are in the graph."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab.numpy_interop import DTYPES
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = ["Clone", "Cast"]


class Clone(Function):
    """A copy with its own memory, in the graph (PyTorch's ``clone``)."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad  # d(x)/dx = 1


register("clone", Clone)


class Cast(Function):
    """The values in another dtype. The gradient comes back unchanged, in the input's dtype
    (the engine casts it); a cast to bool records nothing (a mask has no gradient)."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad  # d(x)/dx = 1


def _dtype(value: Any) -> np.dtype:
    """A dtype a Tensor holds, from a NumPy dtype, its name or a Python type (float is
    float64); anything else is an error naming what a Tensor holds."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype not in DTYPES:
        raise TypeError(
            f"to: a Tensor holds float32, float64 or bool, not {value!r} (indices are float64 "
            "tensors of whole numbers, and index as integers do)"
        )
    return dtype


def to(x: Tensor, *args: Any, dtype: Any = None, copy: bool = False, **_: Any) -> Tensor:
    """``x.to(np.float32)``, ``x.to(other)`` (other's dtype), ``x.to("cpu")``: PyTorch's
    ``to``, on the one device there is. The tensor itself when nothing changes (unless
    ``copy``), else a `Cast` in the graph. (PyTorch's ``non_blocking`` and such are ignored.)"""
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "meta"):
            if arg.split(":")[0] != "cpu":
                raise ValueError(f"to: there is only the CPU here, not {arg!r}")
        else:
            dtype = arg
    dtype = x.dtype if dtype is None else _dtype(dtype)
    if dtype == x.dtype:
        return Clone.apply(x) if copy else x
    return Cast.apply(x, dtype=dtype)


register("to", Cast, method=to)
register("float", Cast, method=lambda x: to(x, np.float32))
register("double", Cast, method=lambda x: to(x, np.float64))
