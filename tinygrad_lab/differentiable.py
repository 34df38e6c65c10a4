"""How a backward pass is itself differentiated (``create_graph=True``).

Every op has one ``backward``, written with what NumPy arrays and Tensors share (operators,
``.sum(axis=...)``, ``.T``, ``reshape``, NumPy functions that reach Tensors, other ops). Given
ndarrays it computes numbers, as in every ordinary backward. Given Tensors it is an ordinary
forward computation of the engine, recorded as any other: its result is a Tensor in a graph,
which the next backward goes through. Here the engine hands an op its Tensors: the gradient
arriving, and as ``saved_tensors`` the Tensors that the arrays it saved are.

Each node the backward records is marked ``backward_of = ctx`` (the forward node it
differentiates), so that `draw_graph` and the trace can show the gradient's own graph apart from
the forward graph. Only here: an ordinary backward marks nothing.
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
        input_grads = ctx.backward(ctx, grad)
    finally:
        ctx.saved_tensors = saved
    # What the backward recorded is numbered after every node it can reach that existed before:
    # the gradient, the op's inputs and its output (made after its inputs).
    start = max(node._ctx.seq, grad._ctx.seq if grad._ctx is not None else -1)
    _mark(input_grads if type(input_grads) is tuple else (input_grads,), ctx, start)
    return input_grads


def _mark(input_grads: tuple, ctx: Any, start: int) -> None:
    """Mark ``backward_of = ctx`` on each node under ``input_grads`` numbered after ``start``
    (made by ``ctx``'s backward, and the ops it called), going no further down than those."""
    stack = [g for g in input_grads if getattr(g, "_ctx", None) is not None]
    while stack:
        made = stack.pop()._ctx
        if made is None or made.seq <= start or getattr(made, "backward_of", None) is not None:
            continue
        made.backward_of = ctx
        stack.extend(made.parents)


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
