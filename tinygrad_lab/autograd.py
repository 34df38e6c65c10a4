"""``tl.autograd.grad``: gradients of outputs with respect to chosen inputs, returned rather than
accumulated into ``.grad``, as PyTorch's ``torch.autograd.grad``. With ``create_graph=True`` they
are Tensors in a graph, to differentiate again (`differentiable`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_lab.tensor import Tensor, _seed, _walk


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The sum over ``outputs`` of each one's vector-Jacobian product with its ``grad_outputs``
    (1 for a one-element output), with respect to each of ``inputs``; no ``.grad`` is touched.

    An input that no output depends on is an error unless ``allow_unused``, when its gradient
    is None. The graph is freed unless ``retain_graph`` (by default ``create_graph``)."""
    outputs, inputs = _tensors(outputs, "outputs"), _tensors(inputs, "inputs")
    if grad_outputs is None or isinstance(grad_outputs, Tensor | np.ndarray):  # one, not a list
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"autograd.grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; "
            "give one each (None for a one-element output)"
        )
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    seeds = tuple(_seed(y, g, create_graph) for y, g in zip(outputs, grad_outputs, strict=True))
    found = dict(_walk(tuple(outputs), seeds, set(inputs), create_graph, retain_graph))
    result = tuple(_as_tensor(found.get(x)) for x in inputs)
    unused = [i for i, g in enumerate(result) if g is None]
    if unused and not allow_unused:
        raise RuntimeError(
            f"autograd.grad: input {unused[0]} was not used to compute the outputs (no "
            "gradient reaches it); pass allow_unused=True to get None for it"
        )
    return result


def _tensors(value: Any, what: str) -> list[Tensor]:
    """One Tensor or a sequence of them, as a list; anything else an error naming ``what``."""
    items = [value] if isinstance(value, Tensor) else list(value)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(
                f"autograd.grad: {what}[{i}] is a {type(item).__name__}; expected a Tensor"
            )
    if not items:
        raise ValueError(f"autograd.grad: {what} is empty; expected at least one Tensor")
    return items


def _as_tensor(value: Any) -> Tensor | None:
    """A gradient as a Tensor: a recorded one is one already; an array is wrapped."""
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value)
