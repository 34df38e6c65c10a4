"""Hooks: every ``register_*hook`` of tensors and modules stores its function with `add_hook`
and returns the `RemovableHandle` that takes it out again, as in PyTorch."""

from __future__ import annotations

import itertools
from collections.abc import Callable

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
