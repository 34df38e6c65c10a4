"""Hooks: every ``register_*hook`` of tensors and modules stores its function with `add_hook`
and returns the `RemovableHandle` that takes it out again, as in PyTorch."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lab import errors
from tinygrad_lab.numpy_interop import as_array

_ids = itertools.count()  # one sequence for every hook: keys stay unique across dicts


class RemovableHandle:
    """Returned by every ``register_*hook``: ``remove()`` detaches the hook (idempotent)."""

    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(hooks: dict, fn: Callable) -> RemovableHandle:
    """Store ``fn`` in ``hooks`` (called in insertion order) and return its handle."""
    if not callable(fn):
        raise TypeError(f"register hook: expected a callable, got {type(fn).__name__}")
    key = next(_ids)
    hooks[key] = fn
    return RemovableHandle(hooks, key)


def run_hooks(hooks: dict, grad: np.ndarray, wrap: Callable) -> np.ndarray:
    """A tensor's hooks, in order, as backward reaches it: each sees the gradient (as
    ``wrap(grad)``, a Tensor) and may return a replacement of the same shape."""
    if not isinstance(grad, np.ndarray):  # create_graph: a Tensor, in the graph
        return _run_recorded(hooks, grad)
    wrapped = wrap(grad, None)  # what each hook sees (a fresh one after a replacement)
    for fn in tuple(hooks.values()):  # (a hook may remove itself)
        replaced = fn(wrapped)
        if replaced is not None:
            replaced = as_array(replaced)
            if replaced.shape != grad.shape or replaced.dtype.kind != "f":
                got = f"shape {replaced.shape}" + (
                    "" if replaced.dtype.kind == "f" else " of bools"
                )
                raise ValueError(
                    f"tensor hook {fn!r} returned a gradient of {got}, expected {grad.shape} "
                    "(floats)"
                )
            # a copy (the hook may keep its array), in the gradient's dtype: a float64
            # replacement does not make a float32 leaf's .grad float64
            replaced = np.array(replaced, dtype=grad.dtype)
            grad, wrapped = replaced, wrap(replaced, None)
    return grad


def _run_recorded(hooks: dict, grad: Any) -> Any:
    """The hooks of a backward with ``create_graph``: each sees the gradient Tensor itself (in
    the graph) and may return a replacement of the same shape and dtype."""
    for fn in tuple(hooks.values()):
        replaced = fn(grad)
        if replaced is not None:
            if not hasattr(replaced, "_data"):
                replaced = type(grad)(as_array(replaced, grad.dtype))  # a constant
            if replaced.shape != grad.shape or replaced.dtype != grad.dtype:
                raise ValueError(
                    f"tensor hook {fn!r} returned a gradient of shape {replaced.shape} "
                    f"({replaced.dtype}), expected {grad.shape} ({grad.dtype})"
                )
            grad = replaced
    return grad


class TensorHooks:
    """`Tensor`'s hooks, ``register_hook`` and ``retain_grad``, and ``requires_grad_``, as
    PyTorch's: what a tensor asks of backward."""

    __slots__ = ()

    def requires_grad_(self, requires_grad: bool = True) -> Any:
        """Make this leaf (not) require grad, in place, as PyTorch's ``requires_grad_``."""
        if self._ctx is not None or (requires_grad and self._data.dtype.kind != "f"):
            raise errors.cannot_require_grad(self)
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> Any:
        """Also keep ``.grad`` for this non-leaf tensor during backward."""
        self._retains_grad = True
        return self

    def register_hook(self, fn: Callable[[Any], Any]) -> RemovableHandle:
        """Call ``fn(grad)`` when backward reaches this tensor; a non-None return replaces grad."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: this tensor does not require grad, so no "
                "gradient will ever reach it"
            )
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, fn)
