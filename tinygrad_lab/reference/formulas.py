"""Each built-in activation's formula and derivative in plain NumPy: the matrix-form reference's
``act`` and ``act'``, written here independently of the ops in `tinygrad_lab.ops`, as an oracle
must be. The course notebook's own are to the operation the notebook's (the reference reproduces
it). An activation registered with formulas of its own (`nn.Activation`) uses those instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tinygrad_lab.nn.activations import Activation

ArrayFn = Callable[[np.ndarray], np.ndarray]
LEAKY_SLOPE = 0.01  # the notebook's leaky ReLU slope


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


_erf = np.vectorize(math.erf, otypes=[float])


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + _erf(z / math.sqrt(2)))


def _normal_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _tanh_softplus(z: np.ndarray) -> np.ndarray:
    return np.tanh(_softplus(z))


FORMULAS: dict[str, tuple[ArrayFn, ArrayFn]] = {  # name: (act, act')
    "relu": (lambda z: np.maximum(0, z), lambda z: (z > 0).astype(float)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "identity": (lambda z: z, np.ones_like),
    "leaky_relu": (
        lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
        lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE),
    ),
    "softplus": (_softplus, _sigmoid),
    "gelu": (lambda z: z * _normal_cdf(z), lambda z: _normal_cdf(z) + z * _normal_pdf(z)),
    "silu": (
        lambda z: z * _sigmoid(z),
        lambda z: _sigmoid(z) + z * _sigmoid(z) * (1 - _sigmoid(z)),
    ),
    "elu": (
        lambda z: np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1),
        lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))),
    ),
    "relu6": (
        lambda z: np.minimum(np.maximum(z, 0), 6),
        lambda z: ((z > 0) & (z < 6)).astype(float),
    ),
    "hardswish": (
        lambda z: z * np.minimum(np.maximum(z + 3, 0), 6) / 6,
        lambda z: np.where(z <= -3, 0.0, np.where(z < 3, (2 * z + 3) / 6, 1.0)),
    ),
    "mish": (
        lambda z: z * _tanh_softplus(z),
        lambda z: _tanh_softplus(z) + z * (1 - _tanh_softplus(z) ** 2) * _sigmoid(z),
    ),
}


def formulas(activation: Activation) -> tuple[ArrayFn, ArrayFn]:
    """``(act, act')`` of a registered activation: its own if it was registered with them, else
    the reference's; an error naming it when it has neither."""
    if activation.function is not None and activation.derivative is not None:
        return activation.function, activation.derivative
    try:
        return FORMULAS[activation.name]
    except KeyError:
        raise ValueError(
            f"reference: activation {activation.name!r} has no formulas: register it with "
            "nn.Activation(name, layer, function, derivative) to check it against the reference"
        ) from None
