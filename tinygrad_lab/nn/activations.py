"""Activation layers, and the one registry of activations that every part of the project reads.

Every op registered with ``layer=True`` (`tinygrad_lab.ops.registry`) becomes a layer here, named
as its op (``nn.ReLU``, ``nn.GELU``), whose arguments are the op's settings
(``nn.LeakyReLU(negative_slope=0.2)``), and an `Activation` entry under its registered name
(``"relu"``: the lab's and the reference's name). `nn`, the reference, the self-check, the
recorder and the lab all look activations up here.

An `Activation` entry holds the layer class, whether a unit that is positive for no example is
dead (the recorder's ``dead_fraction``), and optionally the activation's formula and derivative
in plain NumPy, for the matrix-form reference (``dZ = dA * act'(Z)``). The built-in ones leave
them out: the reference keeps its own, independent of the ops, as an oracle must. A layer of
your own is registered with `register_activation`::

    class Softsign(nn.Module):
        def forward(self, x):
            return x / (x.abs() + 1)

    nn.register_activation(nn.Activation(
        "softsign", Softsign, lambda z: z / (1 + np.abs(z)), lambda z: 1 / (1 + np.abs(z)) ** 2
    ))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lab.nn.module import Module
from tinygrad_lab.ops.registry import LISTENERS, REGISTRY, Registration
from tinygrad_lab.tensor import Tensor

ArrayFn = Callable[[np.ndarray], np.ndarray]


class OpLayer(Module):
    """A layer that applies one registered op with fixed settings (the base of every built-in
    activation layer). The settings are attributes, shown in its repr; a bad one is an error
    when the layer is made, from the op itself."""

    registration: Registration
    _defaults: dict[str, Any] = {}

    def __init__(self, *args: Any, **settings: Any) -> None:
        super().__init__()
        name = type(self).__name__
        if len(args) > len(self._defaults):
            raise TypeError(f"{name}: takes {len(self._defaults)} settings, got {len(args)}")
        settings = {**dict(zip(self._defaults, args, strict=False)), **settings}
        unknown = set(settings) - set(self._defaults)
        if unknown:
            raise TypeError(
                f"{name}: unknown setting(s) {sorted(unknown)}; it takes {list(self._defaults)}"
            )
        settings = {**self._defaults, **settings}
        op = self.registration.op
        op.forward(op(), np.zeros(1), **settings)  # the op's own error for a bad setting
        for key, value in settings.items():
            setattr(self, key, value)

    def forward(self, x: Any) -> Tensor:
        settings = {key: getattr(self, key) for key in self._defaults}
        return self.registration.op.apply(x, **settings)

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={getattr(self, key)!r}" for key in self._defaults)


class Identity(Module):
    """Returns its input unchanged (and adds no node to the graph). Arguments are accepted and
    ignored, as PyTorch's are (so it can stand in for any layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Tensor:
        return x if isinstance(x, Tensor) else Tensor(x)


@dataclass(frozen=True)
class Activation:
    """One activation, as every part of the project needs to know it."""

    name: str  # the lab's --activation and the reference's name
    layer: type[Module]  # the nn layer
    function: ArrayFn | None = None  # act(z) in plain NumPy, for the reference (None: its own)
    derivative: ArrayFn | None = None  # act'(z) at the pre-activation z, likewise
    dead_below_zero: bool = False  # a unit positive for no example passes (almost) no gradient
    nonnegative: bool = False  # the outputs are never negative (the recorder sums, not counts)
    fits: Callable[[Module], bool] = lambda layer: True  # the reference's formulas are this layer's

    def make(self) -> Module:
        """A new layer of this activation (as the lab's network builds them)."""
        return self.layer()


ACTIVATIONS: dict[str, Activation] = {}


def register_activation(activation: Activation) -> Activation:
    """Make ``activation`` known to nn, the reference, the self-check, the recorder and the lab."""
    if not isinstance(activation, Activation):
        raise TypeError(f"register_activation: expected an Activation, got {activation!r:.60}")
    if activation.name in ACTIVATIONS:
        raise ValueError(f"register_activation: {activation.name!r} is already registered")
    ACTIVATIONS[activation.name] = activation
    return activation


def activation_of(layer: Module) -> Activation | None:
    """The entry of an activation layer (its own class first, then a base class), or None."""
    for entry in ACTIVATIONS.values():
        if type(layer) is entry.layer:
            return entry
    return next((e for e in ACTIVATIONS.values() if isinstance(layer, e.layer)), None)


def get_activation(name: str) -> Activation:
    """The entry called ``name``, or a ValueError listing the known ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None


def add_layer(registration: Registration) -> None:
    """For an op registered with ``layer=True``: its layer class (``LAYERS``, and ``nn.<Name>``)
    and its activation entry. A registration made again (a notebook cell run twice) replaces
    both."""
    if registration.layer is None:
        return
    ACTIVATIONS.pop(registration.name, None)
    layer = LAYERS[registration.layer] = _layer_class(registration)
    globals()[registration.layer] = layer


def _layer_class(registration: Registration) -> type[OpLayer]:
    defaults = registration.settings()
    layer = type(
        registration.layer,
        (OpLayer,),
        {
            "registration": registration,
            "_defaults": defaults,
            "__doc__": registration.op.__doc__,
            "__module__": __name__,
        },
    )
    register_activation(
        Activation(
            registration.name,
            layer,
            dead_below_zero=registration.dead_below_zero,
            nonnegative=registration.nonnegative,
            # the reference's formulas are those of the op's default settings
            fits=lambda module: all(getattr(module, k) == v for k, v in defaults.items()),
        )
    )
    return layer


# Every activation layer, made from its op's registration (nn.ReLU, nn.Tanh, ...), now for the
# built-in ops and later for each new registration.
LAYERS: dict[str, type[OpLayer]] = {}
for _registration in REGISTRY.values():
    add_layer(_registration)
LISTENERS.append(add_layer)
register_activation(Activation("identity", Identity))
__all__ = ["Activation", "ACTIVATIONS", "Identity", "OpLayer", "activation_of"]
__all__ += ["get_activation", "register_activation", *LAYERS]
