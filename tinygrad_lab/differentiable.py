"""How a backward pass is itself differentiated (``create_graph=True``).

Every op has one ``backward``, written with what NumPy arrays and Tensors share (operators,
``.sum(axis=...)``, ``.T``, ``reshape``, NumPy functions that reach Tensors, other ops). Given
ndarrays it computes numbers, as in every ordinary backward. Given Tensors it is an ordinary
forward computation of the engine, recorded as any other: its result is a Tensor in a graph,
which the next backward goes through. Here the engine hands an op its Tensors: the gradient
arriving, and as ``saved_tensors`` the Tensors that the arrays it saved are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab import errors


def recorded_backward(ctx: Any, node: Any, grad: Any, parents: tuple) -> Any:
    """``ctx.backward`` given Tensors: ``grad``, and as ``saved_tensors`` the Tensors that the
    saved arrays are (the op's inputs ``parents``, its output ``node``), so that what it
    computes is recorded; the arrays are back in place afterwards."""
    saved = ctx.saved_tensors
    ctx.saved_tensors = tuple(_in_graph(array, parents, node, ctx.name) for array in saved)
    try:
        return ctx.backward(ctx, grad)
    finally:
        ctx.saved_tensors = saved


def _in_graph(array: Any, parents: tuple, node: Any, op: str) -> Any:
    """The Tensor a saved array is; a mask or an index stays an array (a constant). A float
    array that is neither an input nor the output would be a constant to the next derivative,
    and that derivative silently wrong: an error instead."""
    if array is node._data:
        return node
    for parent in parents:
        if array is parent._data:
            return parent
    if not isinstance(array, np.ndarray | np.generic) or array.dtype.kind != "f":
        return array
    raise errors.not_twice_differentiable(op)


def call(op: Any, *inputs: Any, **settings: Any) -> Any:
    """``op`` where another op's backward needs it (a convolution's backward is a convolution):
    recorded, ``op.apply``, when given Tensors; on arrays its forward alone, nothing recorded."""
    if any(hasattr(x, "grad_fn") for x in inputs):
        return op.apply(*inputs, **settings)
    return op.forward(op(), *inputs, **settings)
