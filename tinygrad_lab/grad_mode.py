"""Every switch of the engine, in one place: grad mode, anomaly mode and site recording.

`no_grad` (record no graph), `detect_anomaly` (find the op that made NaN or inf) and
`record_sites` (each new op remembers the user code line and the Module that made it, which
traces and layer drawings need) are context managers and decorators. They are thread-local, as
PyTorch's grad mode is: a ``no_grad()`` in one thread must not stop another thread's training.
The engine reads them through ``state``. Reading a thread-local costs more than an op's own
bookkeeping, so the engine first reads `switched`, the number of switches on in any thread:
while it is 0 (training, as usual) every thread is in the default mode and ``state`` need not
be read at all.

One source of truth: each thread's flags are worked out from the modes it has entered and not
left (``state.modes``), never saved and restored. So a mode object may be entered again while
it is on (``with ng: with ng:``), shared by threads, or left out of order (generators), and the
flags are still those of the modes still on; `switched` counts exactly those entries.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, ClassVar

_DEFAULTS = {"grad_enabled": True, "anomaly": False, "record_sites": False}


class _State(threading.local):
    def __init__(self) -> None:  # runs once in every thread that touches the state
        self.grad_enabled = True  # False inside `no_grad()`: ops record no graph
        self.anomaly = False  # inside `detect_anomaly()`: forward and backward checked for NaN/inf
        self.record_sites = False  # creation sites and modules recorded (anomaly mode, traces)
        self.module_stack: list = []  # the Modules whose forward is running, innermost last
        self.backward_observers: list[Callable] = []  # told of each node backward visits
        self.modes: list[_Mode] = []  # entered in this thread and not left: the flags' source


state = _State()
switched = 0  # switches entered and not yet left, over all threads
_lock = threading.Lock()


def _count(change: int) -> None:
    global switched
    with _lock:  # `switched += 1` is not atomic
        switched += change


def _settle() -> None:
    """Set this thread's flags from its modes: the innermost mode that sets a flag decides."""
    values = dict(_DEFAULTS)
    for mode in state.modes:
        values.update(mode.flags)
    for name, value in values.items():
        setattr(state, name, value)
    # Each observer once, however many entries hold it (re-entry, a decorator's fresh copy);
    # compared with ==, as a bound method is a new object at each access. A new list: a
    # backward running now keeps iterating the one it read.
    observers: list[Callable] = []
    for mode in state.modes:
        if mode.observer is not None and mode.observer not in observers:
            observers.append(mode.observer)
    state.backward_observers = observers


class _Mode(contextlib.ContextDecorator):
    """A context manager and decorator that adds itself to this thread's modes while on.
    Re-entrant: each entry is one more on the list, and each exit takes off its latest."""

    flags: ClassVar[dict[str, bool]] = {}
    observer: Callable | None = None

    def _recreate_cm(self) -> _Mode:
        raise NotImplementedError  # a fresh instance per decorated call

    def __call__(self, func: Callable) -> Callable:
        if inspect.isgeneratorfunction(func):  # the body runs at each next(), not at the call
            return _each_resume(func, self._recreate_cm)
        return super().__call__(func)

    def __enter__(self) -> _Mode:
        state.modes.append(self)
        _settle()
        _count(+1)
        return self

    def __exit__(self, *exc: object) -> None:
        modes = state.modes
        for i in range(len(modes) - 1, -1, -1):  # its latest entry: re-entry nests
            if modes[i] is self:
                del modes[i]
                break
        else:
            raise RuntimeError(
                f"{type(self).__name__}: left in a thread where it is not on; a mode belongs "
                "to the thread that entered it: enter and leave it in the same thread"
            )
        _settle()
        _count(-1)


class _Switch(_Mode):
    """A mode that sets some of ``state``'s flags (``flags``) while on."""

    def __new__(cls, func: Any = None) -> Any:
        instance = super().__new__(cls)
        return instance if func is None else instance(func)  # a bare @no_grad

    def _recreate_cm(self) -> _Switch:
        return type(self)()  # a fresh instance per decorated call: recursion keeps its own state


class no_grad(_Switch):  # noqa: N801  (PyTorch's name)
    """Record no graph inside: ``with no_grad():``, or as a decorator, ``@no_grad()`` or
    ``@no_grad``."""

    flags = {"grad_enabled": False}


class enable_grad(_Switch):  # noqa: N801  (PyTorch's name)
    """Record the graph again inside, even within ``no_grad``."""

    flags = {"grad_enabled": True}


class detect_anomaly(_Switch):  # noqa: N801  (PyTorch's name)
    """Inside, the first op whose forward result or backward gradient holds NaN or inf raises a
    RuntimeError naming the op and the line of user code that created it."""

    flags = {"anomaly": True, "record_sites": True}


class record_sites(_Switch):  # noqa: N801  (a mode, named like the others)
    """Inside, every new op remembers the user code line (``ctx.site``) and the innermost Module
    whose forward made it (``ctx.module``): what traces and ``draw_graph(layers=True)`` show."""

    flags = {"record_sites": True}


class observe_backward(_Mode):  # noqa: N801  (a mode, named like the others)
    """Inside, ``observer(node, ctx, grad, input_grads)`` is called for every node each backward
    visits (how `trace_backward` sees backward without backward knowing about traces); once a
    node, however many times the observer is entered."""

    def __init__(self, observer: Callable) -> None:
        self.observer = observer

    def _recreate_cm(self) -> observe_backward:
        return type(self)(self.observer)


def _each_resume(func: Callable, switch: Callable[[], _Mode]) -> Callable:
    """``func``, a generator function, with the switch on whenever its body runs."""

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        with switch():
            inner = func(*args, **kwargs)
        resume, value = inner.send, None  # how to resume the inner generator, and with what
        while True:
            try:
                with switch():
                    out = resume(value)
            except StopIteration as stop:
                return stop.value
            try:
                resume, value = inner.send, (yield out)
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as error:  # thrown into us: throw it into the body
                resume, value = inner.throw, error

    return generator


def is_grad_enabled() -> bool:
    """False inside ``no_grad``: exactly when ops record no graph."""
    return not switched or state.grad_enabled
