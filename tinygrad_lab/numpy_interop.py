"""NumPy and a `Tensor`: ``np.exp(t)``, ``ndarray + t`` and ``np.sum(t)`` are the ops,
``np.asarray(t)`` is the data (the `NumpyInterop` mixin of `Tensor`, with Python's protocols:
``len``, iteration, ``in``), and a Tensor in an index is its array.

`UFUNC_METHODS` maps each ufunc that has an op to the `Tensor` method that applies it: the
operators' ufuncs are listed here, every other op adds its own when it is registered
(``register(..., ufunc=np.exp)``). Method names rather than ops, so ``np.add(a, t)`` is
``Tensor(a) + t``, with the operators' rules for numbers and dtypes. `ARRAY_FUNCTIONS` does the
same for NumPy's other functions (``np.sum``, ``np.concatenate``, ...), with NumPy's meaning,
filled by ``ops.numpy_functions``; any other NumPy function computes on the values, outside
the graph, and is refused where that would silently lose a gradient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinygrad_lab.errors import short

DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(bool))  # what a Tensor holds

# NumPy's ufuncs of the operators, and the Tensor method that applies each (`__array_ufunc__`);
# `ops.registry.register` adds every other op's.
UFUNC_METHODS = {
    np.add: "__add__",
    np.subtract: "__sub__",
    np.multiply: "__mul__",
    np.true_divide: "__truediv__",
    np.power: "__pow__",
    np.matmul: "__matmul__",
    np.negative: "__neg__",
    np.less: "__lt__",
    np.less_equal: "__le__",
    np.greater: "__gt__",
    np.greater_equal: "__ge__",
    np.equal: "__eq__",
    np.not_equal: "__ne__",
}


# NumPy's functions that have a version on tensors (``np.sum``: the sum op), filled by
# `ops.numpy_functions`; `__array_function__` calls it with NumPy's arguments.
ARRAY_FUNCTIONS: dict[Callable, Callable] = {}


def ufunc_refusal(ufunc: np.ufunc, method: str, kwargs: dict) -> str:
    """Why ``__array_ufunc__`` refuses a call: what was called, and what to write instead."""
    name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if ufunc not in UFUNC_METHODS:
        return (
            f"{name} has no op in tinygrad_lab, so it cannot be applied to a Tensor in the "
            f"graph; call it on the values ({name}(t.data)) to compute outside the graph"
        )
    if method != "__call__":
        return f"{name} is not supported on a Tensor; use the Tensor's methods (t.sum(), ...)"
    if "out" in kwargs:
        return (
            f"{name}(..., out=...) cannot write a Tensor's result into an array: assign it "
            "instead (a = a + t, not a += t), or compute on the values (t.data)"
        )
    return f"{name} on a Tensor takes no {', '.join(sorted(kwargs))}= (or call it on t.data)"


class ElementCount(int):
    """``t.size``: the number of entries, an int as NumPy's ``ndarray.size``; called, it is
    PyTorch's ``t.size()``, the shape, or with a dimension that dimension's length."""

    def __new__(cls, count: int, shape: tuple[int, ...] = ()) -> ElementCount:
        number = super().__new__(cls, count)
        number.shape = shape
        return number

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        span = len(self.shape)
        whole = isinstance(dim, int | np.integer) and not isinstance(dim, bool)
        if not whole or not -span <= dim < span:
            raise IndexError(f"size: no dimension {dim!r} in a tensor of shape {self.shape}")
        return self.shape[dim]


class NumpyInterop:
    """`Tensor`'s side of NumPy's and Python's protocols: its values as arrays and numbers, its
    shape and length, iteration over its first dimension."""

    __slots__ = ()

    @property
    def size(self) -> ElementCount:
        """The number of entries (NumPy's ``size``); ``t.size()`` is the shape, PyTorch's."""
        return ElementCount(self._data.size, self._data.shape)

    def numel(self) -> int:
        """The number of entries, as PyTorch's ``numel()``."""
        return self._data.size

    def dim(self) -> int:
        """The number of dimensions, as PyTorch's ``dim()`` (``ndim`` too)."""
        return self._data.ndim

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Iterator[Any]:
        """The slices along the first dimension, each in the graph (``unbind(0)``)."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __contains__(self, element: Any) -> bool:
        """``v in t``: some entry equals ``v``, as in PyTorch and NumPy."""
        return bool(np.any(self._data == getattr(element, "_data", element)))

    def tolist(self) -> Any:
        """The values as nested Python lists of floats (a 0-d tensor: one float)."""
        return self._data.tolist()

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self._data.size != 1:
            raise ValueError(f"item: tensor has {self._data.size} elements {self.shape}, not one")
        return float(self._data.item())

    __float__ = item

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"bool: the truth of a tensor of {self._data.size} elements {self.shape} is "
                "ambiguous; use (x > 0).data.any() or .all()"
            )
        return bool(self._data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self._data

    def __int__(self) -> int:
        """``int(t)`` of a one-element tensor, as in PyTorch."""
        return int(self.item())

    def __abs__(self) -> Any:
        """``abs(t)``: the ``abs`` op."""
        return self.abs()

    def _compare(self, ufunc: np.ufunc, other: Any) -> Any:
        """A comparison (``t < 0``): a bool tensor, outside the graph."""
        return self._new(np.asarray(ufunc(self._data, getattr(other, "_data", other))), None)

    def _logical(self, ufunc: np.ufunc, symbol: str, other: Any = True) -> Any:
        """``~m``, ``m & n``, ``m | n``, ``m ^ n`` of masks: a bool tensor, outside the graph."""
        values = getattr(other, "_data", other)
        if self._data.dtype != bool or np.asarray(values).dtype != bool:
            raise TypeError(
                f"{symbol}: for bool tensors (masks, comparisons), as PyTorch's; got "
                f"{self.dtype} and {np.asarray(values).dtype}"
            )
        return self._compare(ufunc, values)

    __invert__ = lambda self: self._logical(np.not_equal, "~")  # noqa: E731  (m != True)
    __and__ = __rand__ = lambda self, other: self._logical(np.logical_and, "&", other)  # noqa: E731
    __or__ = __ror__ = lambda self, other: self._logical(np.logical_or, "|", other)  # noqa: E731
    __xor__ = __rxor__ = lambda self, other: self._logical(np.logical_xor, "^", other)  # noqa: E731

    # Comparisons give bool tensors, outside the graph (nothing to differentiate).
    __lt__ = lambda self, other: self._compare(np.less, other)  # noqa: E731
    __le__ = lambda self, other: self._compare(np.less_equal, other)  # noqa: E731
    __gt__ = lambda self, other: self._compare(np.greater, other)  # noqa: E731
    __ge__ = lambda self, other: self._compare(np.greater_equal, other)  # noqa: E731
    __eq__ = lambda self, other: self._compare(np.equal, other)  # noqa: E731
    __ne__ = lambda self, other: self._compare(np.not_equal, other)  # noqa: E731

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """A plain call of a ufunc that has an op is that op; anything else is a TypeError."""
        name = UFUNC_METHODS.get(ufunc)
        if name is None or method != "__call__" or kwargs:
            raise TypeError(ufunc_refusal(ufunc, method, kwargs))
        return getattr(self._lift(inputs[0]), name)(*inputs[1:])

    def __array_function__(self, func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
        """``np.sum(t)``, ``np.concatenate([t, u])``, ...: the function's version on tensors, in
        the graph, where it has one; any other computes on the values (`outside_graph`)."""
        ours = ARRAY_FUNCTIONS.get(func)
        if ours is not None:
            return ours(*args, **kwargs)
        return outside_graph(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)``: the data itself (``np.array(t)`` copies it, as for an ndarray)."""
        return self._data if dtype is None and not copy else np.array(self._data, dtype, copy=copy)


def outside_graph(func: Callable, args: tuple, kwargs: dict) -> Any:
    """NumPy's ``func`` on the tensors' values (a plain result, outside the graph, as for an
    ndarray); refused where that would silently drop a gradient: a float result computed from
    a tensor that requires grad."""
    result = func(*_values(args), **_values(kwargs))
    if _requires_grad(args) or _requires_grad(kwargs):
        floats = result if isinstance(result, tuple | list) else (result,)
        if any(np.asarray(r).dtype.kind in "fc" for r in floats):
            module = getattr(func, "__module__", "numpy").replace("numpy", "np", 1)
            name = f"{'np' if module.startswith('np._') else module}.{func.__name__}"
            raise TypeError(
                f"{name} has no op in tinygrad_lab, so on a tensor that requires grad its "
                f"result would leave the graph without a gradient; call it on the values "
                f"({name}(t.data)) to compute outside the graph, or use the Tensor's methods "
                "and the NumPy functions that are ops (docs/pytorch/tensor.md)"
            )
    return result


def _values(value: Any) -> Any:
    """``value`` with every Tensor in it (in lists, tuples and dicts too) replaced by its array."""
    if isinstance(value, list | tuple):
        converted = [_values(v) for v in value]
        return converted if isinstance(value, list) else tuple(converted)
    if isinstance(value, dict):
        return {k: _values(v) for k, v in value.items()}
    return getattr(value, "_data", value) if hasattr(value, "grad_fn") else value


def _requires_grad(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return any(_requires_grad(v) for v in value)
    if isinstance(value, dict):
        return any(_requires_grad(v) for v in value.values())
    return bool(getattr(value, "requires_grad", False))


def plain_index(index: Any) -> Any:
    """``index`` with every Tensor in it replaced by its array (a bool mask as it is, numbers as
    integers: Tensors hold floats, NumPy indexes with ints), and every array a copy of its own,
    so that a later write into the index cannot move the gradient (an op saves its index)."""
    if isinstance(index, tuple):
        return tuple(plain_index(i) for i in index)
    if isinstance(index, np.ndarray):
        return index.copy()
    data = getattr(index, "_data", None)
    if not isinstance(data, np.ndarray):
        return index
    if data.dtype.kind == "b":
        return data.copy()
    if not np.array_equal(data, np.round(data)):
        raise IndexError(f"GetItem: a Tensor index must hold whole numbers, got {data!r}")
    return data.astype(np.intp)


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as a float32, float64 or bool ndarray; numbers and ints become float64."""
    data = getattr(data, "_data", data)  # a Tensor: its array
    if dtype is not None and np.dtype(dtype) not in DTYPES:
        raise TypeError(f"Tensor: dtype must be float32, float64 or bool, got {np.dtype(dtype)}")
    try:
        array = np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"Tensor: expected numbers or a rectangular array of them, got "
            f"{type(data).__name__} {short(data)} ({err})"
        ) from None
    if array.dtype in DTYPES:
        return array
    if array.dtype.kind in "iuf":  # ints and other float widths: compute in float64
        return array.astype(np.float64)
    raise TypeError(
        f"Tensor: expected numbers or a rectangular array of them, got {type(data).__name__} "
        f"{short(data)} of dtype {array.dtype}"
    )


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    The one place broadcasting is undone: an op's ``backward`` may return a gradient in the
    broadcast shape of its output, and the engine reduces it to each input's shape here.
    """
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
