"""Activation layers, and the one registry of activations that every part of the project reads.

An `Activation` entry names an activation (``"relu"``: the lab's and the reference's name) and
holds its layer class, its formula and derivative in plain NumPy (the ``act`` and ``act'`` of
the matrix-form reference: ``dZ = dA * act'(Z)``) and whether a unit that is positive for no
example is dead (the recorder's ``dead_fraction``). `nn`, the reference, the self-check, the
recorder and the lab all look activations up here, so adding one is one `register_activation`::

    class Softsign(nn.Module):
        def forward(self, x):
            return x / (x.abs() + 1)

    nn.register_activation(nn.Activation(
        "softsign", Softsign, lambda z: z / (1 + np.abs(z)), lambda z: 1 / (1 + np.abs(z)) ** 2
    ))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lab import ops
from tinygrad_lab.nn.module import Module
from tinygrad_lab.tensor import Tensor

ArrayFn = Callable[[np.ndarray], np.ndarray]


class ReLU(Module):
    """max(x, 0); derivative 0 at 0, as in the course notebook."""

    def forward(self, x: Any) -> Tensor:
        return ops.ReLU.apply(x)


class LeakyReLU(Module):
    """x where x > 0, else ``negative_slope · x``."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return ops.LeakyReLU.apply(x, negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    def forward(self, x: Any) -> Tensor:
        return ops.Sigmoid.apply(x)


class Tanh(Module):
    def forward(self, x: Any) -> Tensor:
        return ops.Tanh.apply(x)


class Identity(Module):
    """Returns its input unchanged (and adds no node to the graph)."""

    def forward(self, x: Any) -> Tensor:
        return x if isinstance(x, Tensor) else Tensor(x)


@dataclass(frozen=True)
class Activation:
    """One activation, as every part of the project needs to know it."""

    name: str  # the lab's --activation and the reference's name
    layer: type[Module]  # the nn layer
    function: ArrayFn  # act(z) in plain NumPy: the matrix-form reference's forward
    derivative: ArrayFn  # act'(z) at the pre-activation z: the reference's backward
    dead_below_zero: bool = False  # a unit positive for no example passes (almost) no gradient
    nonnegative: bool = False  # the outputs are never negative (the recorder sums, not counts)
    fits: Callable[[Module], bool] = lambda layer: True  # the formulas above are this layer's

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


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


LEAKY_SLOPE = 0.01  # the slope of the reference's leaky ReLU
# The formulas are the course notebook's own, to the operation (the reference reproduces it).
register_activation(
    Activation(
        "relu",
        ReLU,
        lambda z: np.maximum(0, z),
        lambda z: (z > 0).astype(float),
        dead_below_zero=True,
        nonnegative=True,
    )
)
register_activation(Activation("tanh", Tanh, np.tanh, lambda z: 1 - np.tanh(z) ** 2))
register_activation(
    Activation("sigmoid", Sigmoid, _sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z)))
)
register_activation(Activation("identity", Identity, lambda z: z, np.ones_like))
register_activation(
    Activation(
        "leaky_relu",
        LeakyReLU,
        lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
        lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE),
        dead_below_zero=True,
        fits=lambda layer: layer.negative_slope == LEAKY_SLOPE,
    )
)


# ------------------------------------------------------------------------- more activations
# Each a layer over its op in ops/activation.py, and registered once below. The registry's
# formulas are written again here, independently of the ops: they are the reference's oracle.
class Softplus(Module):
    """log(1 + e^(βx)) / β: a smooth ReLU."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        if not beta > 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta!r}")
        self.beta = beta

    def forward(self, x: Any) -> Tensor:
        return ops.Softplus.apply(x, beta=self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class GELU(Module):
    """x Φ(x), Φ the standard normal distribution function; ``approximate="tanh"`` for the
    tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return (ops.GELU if self.approximate == "none" else ops.GELUTanh).apply(x)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x σ(x) (swish)."""

    def forward(self, x: Any) -> Tensor:
        return ops.SiLU.apply(x)


class ELU(Module):
    """x where x > 0, else α (eˣ - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Any) -> Tensor:
        return ops.ELU.apply(x, alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class ReLU6(Module):
    """min(max(x, 0), 6); derivative 0 at 0 and at 6."""

    def forward(self, x: Any) -> Tensor:
        return ops.ReLU6.apply(x)


class Hardswish(Module):
    """x · relu6(x + 3) / 6."""

    def forward(self, x: Any) -> Tensor:
        return ops.Hardswish.apply(x)


class Mish(Module):
    """x · tanh(softplus(x))."""

    def forward(self, x: Any) -> Tensor:
        return ops.Mish.apply(x)


_erf = np.vectorize(math.erf, otypes=[float])


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + _erf(z / math.sqrt(2)))


def _normal_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _tanh_softplus(z: np.ndarray) -> np.ndarray:
    return np.tanh(_softplus(z))


register_activation(
    Activation("softplus", Softplus, _softplus, _sigmoid, fits=lambda layer: layer.beta == 1)
)
register_activation(
    Activation(
        "gelu",
        GELU,
        lambda z: z * _normal_cdf(z),
        lambda z: _normal_cdf(z) + z * _normal_pdf(z),
        fits=lambda layer: layer.approximate == "none",
    )
)
register_activation(
    Activation(
        "silu",
        SiLU,
        lambda z: z * _sigmoid(z),
        lambda z: _sigmoid(z) + z * _sigmoid(z) * (1 - _sigmoid(z)),
    )
)
register_activation(
    Activation(
        "elu",
        ELU,
        lambda z: np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1),
        lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))),
        fits=lambda layer: layer.alpha == 1,
    )
)
register_activation(
    Activation(
        "relu6",
        ReLU6,
        lambda z: np.minimum(np.maximum(z, 0), 6),
        lambda z: ((z > 0) & (z < 6)).astype(float),
        dead_below_zero=True,
    )
)
register_activation(
    Activation(
        "hardswish",
        Hardswish,
        lambda z: z * np.minimum(np.maximum(z + 3, 0), 6) / 6,
        lambda z: np.where(z < -3, 0.0, np.where(z <= 3, (2 * z + 3) / 6, 1.0)),
    )
)
register_activation(
    Activation(
        "mish",
        Mish,
        lambda z: z * _tanh_softplus(z),
        lambda z: _tanh_softplus(z) + z * (1 - _tanh_softplus(z) ** 2) * _sigmoid(z),
    )
)
