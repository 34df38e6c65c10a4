"""NumPy and a `Tensor`: ``np.exp(t)`` and ``ndarray + t`` are the ops, ``np.asarray(t)`` is
the data (the `NumpyInterop` mixin of `Tensor`), and a Tensor in an index is its array.

`UFUNC_METHODS` maps each ufunc that has an op to the `Tensor` method that applies it: the
operators' ufuncs are listed here, every other op adds its own when it is registered
(``register(..., ufunc=np.exp)``). Method names rather than ops, so ``np.add(a, t)`` is
``Tensor(a) + t``, with the operators' rules for numbers and dtypes."""

from __future__ import annotations

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
    np.positive: "__pos__",
    np.less: "__lt__",
    np.less_equal: "__le__",
    np.greater: "__gt__",
    np.greater_equal: "__ge__",
    np.equal: "__eq__",
    np.not_equal: "__ne__",
}


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


class NumpyInterop:
    """`Tensor`'s side of NumPy's and Python's protocols: its values as arrays and numbers."""

    __slots__ = ()

    def __len__(self) -> int:
        return len(self._data)

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

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)``: the data itself (``np.array(t)`` copies it, as for an ndarray)."""
        return self._data if dtype is None and not copy else np.array(self._data, dtype, copy=copy)


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
