"""NumPy's ufuncs on a `Tensor` (``Tensor.__array_ufunc__``): the one table from each ufunc that
has an op to the `Tensor` method that applies it, and the message for every other call. Method
names rather than ops, so ``np.add(a, t)`` is ``Tensor(a) + t``, with the operators' rules for
numbers and dtypes."""

from __future__ import annotations

import numpy as np

# NumPy's ufuncs that have an op, and the Tensor method that applies it (`__array_ufunc__`).
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
    np.exp: "exp",
    np.log: "log",
    np.sqrt: "sqrt",
    np.absolute: "abs",
    np.fabs: "abs",
    np.tanh: "tanh",
    np.sin: "sin",
    np.cos: "cos",
    np.tan: "tan",
    np.arcsin: "asin",
    np.arccos: "acos",
    np.arctan: "atan",
    np.sinh: "sinh",
    np.cosh: "cosh",
    np.log2: "log2",
    np.log10: "log10",
    np.log1p: "log1p",
    np.exp2: "exp2",
    np.expm1: "expm1",
    np.square: "square",
    np.reciprocal: "reciprocal",
    np.sign: "sign",
    np.maximum: "maximum",
    np.minimum: "minimum",
    np.logaddexp: "logaddexp",
    np.logaddexp2: "logaddexp2",
    np.arctan2: "atan2",
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
