"""Grad modes: `no_grad` (record no graph) and `detect_anomaly` (find the op that made NaN/inf).

Both are context managers and decorators, and thread-local, as in PyTorch.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tinygrad_lab._state import state as _state


class no_grad(contextlib.ContextDecorator):  # noqa: N801  (PyTorch's name)
    """Record no graph inside: ``with no_grad():``, or as a decorator, ``@no_grad()`` or
    ``@no_grad``."""

    def __new__(cls, func: Any = None) -> Any:
        instance = super().__new__(cls)
        return instance if func is None else instance(func)  # bare @no_grad

    def _recreate_cm(self) -> no_grad:
        return type(self)()  # a fresh instance per decorated call: recursion keeps its own state

    def __enter__(self) -> no_grad:
        self._previous = _state.grad_enabled
        _state.grad_enabled = False
        return self

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self._previous


def is_grad_enabled() -> bool:
    """False inside ``no_grad``."""
    return _state.grad_enabled


class detect_anomaly(contextlib.ContextDecorator):  # noqa: N801  (PyTorch's name)
    """Inside, the first op whose forward result or backward gradient holds NaN or inf raises a
    RuntimeError naming the op and the line of user code that created it."""

    def _recreate_cm(self) -> detect_anomaly:
        return type(self)()  # a fresh instance per decorated call: recursion keeps its own state

    def __enter__(self) -> detect_anomaly:
        self._previous = (_state.anomaly, _state.record_sites)
        _state.anomaly = _state.record_sites = True
        return self

    def __exit__(self, *exc: object) -> None:
        _state.anomaly, _state.record_sites = self._previous
