"""One registration per op: everything else comes from it.

Right after its `Function` class, an op file registers it once::

    class Softsign(Function):
        ...

    register("softsign", Softsign, layer=True)

and from that line come the Tensor method ``t.softsign()`` (PyTorch's name; ``aliases`` adds
NumPy's where it differs), ``nn.functional.mish`` (for a layer, or ``functional=True``), the
NumPy ufunc (``ufunc=np.tanh``: ``np.tanh(t)`` is the op), and for ``layer=True`` an ``nn``
layer of the op's class name with the op's settings as arguments (``nn.Softsign()``), entered in
the activation registry (``nn.ACTIVATIONS["softsign"]``). A user's op registers the same way.

The method is made from ``forward``'s signature: its first array is the tensor itself, the other
arrays come next, and the settings (the arguments with defaults) follow, positional or by
name; PyTorch's ``dim=``/``keepdim=`` are taken for ``axis=``/``keepdims=`` (and NumPy's for
PyTorch's in a written method that names them ``dim``). Where a method needs more than that
(``reshape(2, 3)`` or ``reshape((2, 3))``), pass it as ``method=``; a method that is not one
op (``var``, made of several) registers with no op.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lab.numpy_interop import UFUNC_METHODS
from tinygrad_lab.tensor import Function, Tensor

_TORCH_NAMES = {"dim": "axis", "keepdim": "keepdims"}
_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


@dataclass(frozen=True)
class Registration:
    """What one registration declared, as `nn` and the docs read it."""

    name: str  # the Tensor method and nn.functional name
    op: type[Function] | None  # None for a method made of several ops
    method: Callable
    aliases: tuple[str, ...] = ()
    ufuncs: tuple[np.ufunc, ...] = ()
    functional: bool = False
    layer: str | None = None  # the nn layer's class name (an activation)
    dead_below_zero: bool = False  # (activations) a unit positive for no example is dead
    nonnegative: bool = False  # (activations) outputs are never negative

    def settings(self) -> dict[str, Any]:
        """The method's settings and their defaults (``{"negative_slope": 0.01}``)."""
        parameters = list(inspect.signature(self.method).parameters.values())[1:]
        return {p.name: p.default for p in parameters if p.default is not p.empty}


REGISTRY: dict[str, Registration] = {}
# Told of each new registration (`nn` listens, to make the layer of an activation).
LISTENERS: list[Callable[[Registration], None]] = []


def register(
    name: str,
    op: type[Function] | None = None,
    *,
    method: Callable | None = None,
    aliases: tuple[str, ...] = (),
    ufunc: np.ufunc | tuple[np.ufunc, ...] = (),
    functional: bool = False,
    layer: bool = False,
    dead_below_zero: bool = False,
    nonnegative: bool = False,
) -> Registration:
    """Register ``op`` (a `Function`) under ``name``: its Tensor method and everything the
    module docstring lists. Returns the `Registration`."""
    if op is None and method is None:
        raise TypeError(f"register({name!r}): give the op, a method, or both")
    _make_room(name, op, aliases)
    if method is None:
        method = op_method(op, name)
    elif not isinstance(method, property):
        method = _named(method, name, op)
    ufuncs = ufunc if isinstance(ufunc, tuple) else (ufunc,)
    entry = Registration(
        name, op, method, tuple(aliases), ufuncs, functional or layer,
        op.__name__ if layer else None, dead_below_zero, nonnegative,
    )  # fmt: skip
    for taken in (name, *aliases):
        setattr(Tensor, taken, method)
    for u in ufuncs:
        UFUNC_METHODS[u] = name
    REGISTRY[name] = entry
    for listener in LISTENERS:
        listener(entry)
    return entry


def _make_room(name: str, op: type[Function] | None, aliases: tuple[str, ...]) -> None:
    """Refuse a name that is taken, unless by the user's own earlier registration of the same
    name (a notebook cell run again), which the new one replaces."""
    old = REGISTRY.get(name)
    owner = getattr(old.op or old.method, "__module__", "tinygrad_lab") if old else "tinygrad_lab"
    if not owner.startswith("tinygrad_lab"):
        unregister(name)
    for taken in (name, *aliases):
        if taken in REGISTRY or hasattr(Tensor, taken):
            raise ValueError(f"register: {taken!r} is already a Tensor method")


def unregister(name: str) -> None:
    """Take back a registration: its method, aliases and ufuncs (its ``nn`` layer stays)."""
    entry = REGISTRY.pop(name)
    for taken in (name, *entry.aliases):
        delattr(Tensor, taken)
    for u in entry.ufuncs:
        UFUNC_METHODS.pop(u, None)


def op_method(op: type[Function], name: str) -> Callable:
    """The Tensor method of ``op``: ``t.name(*other_inputs, *settings)``, as `register` says."""
    parameters = list(inspect.signature(op.forward).parameters.values())[1:]  # after ctx
    inputs = [p for p in parameters if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD]
    settings = [p.name for p in parameters if p.default is not p.empty]
    others = len(inputs) - 1  # the inputs after the tensor itself
    torch_names = "axis" in settings

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if kwargs and torch_names:
            kwargs = pytorch_names(name, kwargs)
        if len(args) > others:  # settings given by position
            kwargs = _positional(name, settings, args[others:], kwargs)
            args = args[:others]
        return op.apply(self, *args, **kwargs)

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__signature__ = inspect.Signature([self_parameter, *parameters[1:]])
    method.__name__, method.__qualname__, method.__doc__ = name, f"Tensor.{name}", op.__doc__
    return method


def _named(function: Callable, name: str, op: type[Function] | None) -> Callable:
    """A written method as ``Tensor.name``, taking PyTorch's ``dim=`` if it has ``axis``, and
    NumPy's ``axis=`` if it has ``dim``."""
    method = function
    parameters = inspect.signature(function).parameters
    names = _TORCH_NAMES if "axis" in parameters else _NUMPY_NAMES if "dim" in parameters else {}
    if names:

        @functools.wraps(function)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return function(self, *args, **(renamed(name, kwargs, names) if kwargs else kwargs))

    method.__name__, method.__qualname__ = name, f"Tensor.{name}"
    if op is not None and not method.__doc__:
        method.__doc__ = op.__doc__
    return method


def pytorch_names(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with PyTorch's ``dim``/``keepdim`` renamed to ``axis``/``keepdims``."""
    return renamed(name, kwargs, _TORCH_NAMES)


def renamed(name: str, kwargs: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """``kwargs`` with each key of ``names`` renamed to its value (one library's name for an
    argument to the other's); both given is an error."""
    for theirs, ours in names.items():
        if theirs in kwargs:
            if ours in kwargs:
                raise TypeError(f"{name}: give {ours}= or {theirs}=, not both")
            kwargs[ours] = kwargs.pop(theirs)
    return kwargs


def _positional(name: str, settings: list[str], values: tuple, kwargs: dict) -> dict:
    if len(values) > len(settings):
        raise TypeError(
            f"{name}: takes {len(settings)} setting(s) ({', '.join(settings) or 'none'}) after "
            f"its inputs, got {len(values)} more positional arguments"
        )
    for setting, value in zip(settings, values, strict=False):
        if setting in kwargs:
            raise TypeError(f"{name}: got two values for {setting}")
        kwargs[setting] = value
    return kwargs


def functionals() -> dict[str, Callable]:
    """``nn.functional``'s function of every registration that has one: ``F.name(input, ...)``
    is ``Tensor(input).name(...)``."""
    return {e.name: _functional(e) for e in REGISTRY.values() if e.functional}


def _functional(entry: Registration) -> Callable:
    method = entry.method

    def functional(input: Any, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
        return method(input if isinstance(input, Tensor) else Tensor(input), *args, **kwargs)

    functional.__name__ = functional.__qualname__ = entry.name
    functional.__doc__ = method.__doc__
    parameters = list(inspect.signature(method).parameters.values())[1:]
    first = inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    functional.__signature__ = inspect.Signature([first, *parameters])
    return functional
