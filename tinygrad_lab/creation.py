"""Tensor constructors, PyTorch's names: ``tensor`` (a copy of the data) and ``from_numpy`` (its
memory shared), ``zeros``, ``ones``, ``full``, ``eye``, ``arange``, ``linspace``, the random
``rand`` and ``randn``, and the ``*_like`` forms. A shape is given as PyTorch takes it,
``zeros(2, 3)``, or as NumPy does, ``zeros((2, 3))``. Each returns a leaf Tensor, float64 unless
``dtype=`` says otherwise, and requires grad only when asked to.

The random ones draw from ``rng=``: a ``np.random.Generator``, a ``RandomState`` or an int seed;
without it, from the package's seeded default generator (the one layers use, reseeded by
``nn.init.manual_seed``), so a run is reproducible either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_lab.nn.init import generator
from tinygrad_lab.tensor import Tensor

__all__ = ["tensor", "from_numpy", "zeros", "ones", "full", "eye", "arange", "linspace"]
__all__ += ["rand", "randn"]
__all__ += ["zeros_like", "ones_like", "full_like", "rand_like", "randn_like"]

Shape = int | Sequence[int]
_BELOW_ONE = np.float32(1 - 2**-24)  # the largest float32 below 1


def _shape(name: str, sizes: tuple) -> tuple[int, ...]:
    """``(2, 3)`` from ``(2, 3)`` or ``((2, 3),)``; an error naming the constructor otherwise."""
    if len(sizes) == 1 and not isinstance(sizes[0], int | np.integer):
        with contextlib.suppress(TypeError):  # not a sequence: refused below
            sizes = tuple(sizes[0])
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise TypeError(f"{name}: a shape is whole numbers >= 0, got {sizes!r}")
    return tuple(int(n) for n in sizes)


def _float(name: str, dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: random values are float32 or float64, not {dtype}")
    return dtype


def tensor(data: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A leaf holding a copy of ``data`` (numbers, nested lists, an array or a Tensor), as
    ``torch.tensor``; numbers and ints become float64."""
    return Tensor(np.array(getattr(data, "_data", data), copy=True), requires_grad, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A leaf sharing ``array``'s memory (float32, float64 or bool), as ``torch.from_numpy``."""
    if not isinstance(array, np.ndarray) or array.dtype not in (np.float32, np.float64, bool):
        raise TypeError(
            f"from_numpy: expected a float32, float64 or bool ndarray to share, got "
            f"{getattr(array, 'dtype', type(array).__name__)}; tl.tensor(data) copies any data"
        )
    return Tensor(array)


def zeros(*shape: Shape, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape("zeros", shape), dtype=dtype), requires_grad, dtype)


def ones(*shape: Shape, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape("ones", shape), dtype=dtype), requires_grad, dtype)


def full(
    shape: Shape, fill_value: float, *, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Every entry ``fill_value``; a bool fill gives a bool tensor, a number float64."""
    return Tensor(np.full(_shape("full", (shape,)), fill_value, dtype=dtype), requires_grad, dtype)


def eye(
    n: int, m: int | None = None, *, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """The n×m identity (m = n when not given)."""
    rows, columns = _shape("eye", (n, n if m is None else m))
    return Tensor(np.eye(rows, columns, dtype=dtype), requires_grad, dtype)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: Any = np.float64,
    requires_grad: bool = False,
) -> Tensor:
    """``start, start + step, ...`` up to but not including ``end``; ``arange(n)`` is 0..n-1."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad, dtype)


def linspace(
    start: float, end: float, steps: int, *, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included; ``steps`` is
    required, as in PyTorch (NumPy's ``num`` defaults to 50)."""
    count = _shape("linspace", (steps,))[0]
    return Tensor(np.linspace(start, end, count, dtype=dtype), requires_grad, dtype)


def rand(
    *shape: Shape, rng: Any = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Uniform on [0, 1), drawn from ``rng``."""
    dtype = _float("rand", dtype)
    values = generator(rng).random(_shape("rand", shape)).astype(dtype)
    if dtype == np.float32:  # a float64 draw just below 1 would round to 1.0
        values = np.minimum(values, _BELOW_ONE)
    return Tensor(values, requires_grad)


def randn(
    *shape: Shape, rng: Any = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Standard normal, drawn from ``rng``."""
    dtype = _float("randn", dtype)
    values = generator(rng).standard_normal(_shape("randn", shape)).astype(dtype)
    return Tensor(values, requires_grad)


def _like(t: Any, dtype: Any) -> tuple[tuple[int, ...], Any]:
    """The shape of ``t`` (a Tensor or array-like), and ``dtype`` or else its dtype."""
    t = t if isinstance(t, Tensor) else Tensor(t)
    return t.shape, t.dtype if dtype is None else dtype


def zeros_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(t, dtype)
    return zeros(shape, dtype=dtype, requires_grad=requires_grad)


def ones_like(t: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(t, dtype)
    return ones(shape, dtype=dtype, requires_grad=requires_grad)


def full_like(
    t: Any, fill_value: float, *, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    shape, dtype = _like(t, dtype)
    return full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def rand_like(t: Any, *, rng: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(t, dtype)
    return rand(shape, rng=rng, dtype=dtype, requires_grad=requires_grad)


def randn_like(
    t: Any, *, rng: Any = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    shape, dtype = _like(t, dtype)
    return randn(shape, rng=rng, dtype=dtype, requires_grad=requires_grad)
