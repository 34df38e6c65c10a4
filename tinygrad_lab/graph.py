"""The walk of the graph for the backward trace and the graph drawings.

The graph is held by the tensors themselves: a tensor made by an op has ``_ctx``, the op's
`Function` node, whose ``parents`` are its input tensors. `topological_order` lists every
tensor under a root, each after all of its inputs, without recursion (a chain of 100,000 ops
is fine); nothing here changes the graph. (Backward needs no walk of its own: it takes the
nodes newest first, by their creation number ``ctx.seq``, see `Tensor.backward`.)
"""

from __future__ import annotations

from typing import Any

_INPUTS_DONE = object()  # on the stack: the tensor under this marker has all its inputs listed


def topological_order(root: Any, requiring_grad: bool = True) -> list[Any]:
    """Tensors under ``root`` (``root`` last), each after all of its inputs; the first input of
    an op is walked first. With ``requiring_grad``, only tensors that require grad (the ones
    backward visits); otherwise every tensor, constants included.

    The stack is flat (tensors and the marker ``_INPUTS_DONE``), not one tuple per node, so that
    a 100,000-node graph does not feed the garbage collector 100,000 tuples: that made the cost
    per node grow with the size of the graph.
    """
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is _INPUTS_DONE:
            order.append(stack.pop())
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        ctx = node._ctx
        if ctx is None:  # a leaf has no inputs to wait for: it is done at once
            order.append(node)
            continue
        stack.append(node)
        stack.append(_INPUTS_DONE)
        for parent in reversed(ctx.parents):
            if id(parent) not in visited and (parent.requires_grad or not requiring_grad):
                stack.append(parent)
    return order


def nodes(root: Any) -> list[Any]:
    """Every `Function` node under ``root``, each after the nodes that made its inputs."""
    return [t._ctx for t in topological_order(root, requiring_grad=False) if t._ctx is not None]
