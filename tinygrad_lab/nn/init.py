"""Weight initialisation, always from an explicit random generator, so runs are reproducible.

The ``*_`` functions fill a tensor in place (PyTorch's names). The factories without the
underscore (``uniform(a, b)``, ...) return an initializer ``fn(tensor, rng)`` for a layer's
``init=`` option. A generator is a ``np.random.Generator`` or a legacy ``RandomState``: the lab
uses ``RandomState(seed)`` to draw exactly what the course notebook's ``np.random`` draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lab.grad_mode import no_grad
from tinygrad_lab.tensor import Tensor

_default = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reseed the generator used by layers created without ``rng=``."""
    global _default
    _default = np.random.default_rng(seed)


def generator(rng: Any = None) -> Any:
    """``rng``, or the package's seeded default generator when None; an int seeds a new one."""
    if rng is None:
        return _default
    if isinstance(rng, int | np.integer):
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.Generator | np.random.RandomState):
        return rng
    raise TypeError(
        f"init: rng must be a numpy Generator, RandomState, int or None, got {type(rng).__name__}"
    )


def _fill(tensor: Tensor, values: Any) -> None:
    """Write ``values`` into the tensor in place, as a tracked write (its version goes up, so a
    graph that saved the old weights refuses to run, as in PyTorch)."""
    with no_grad():
        tensor.copy_(values)


def _fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out). Linear weights here are (in, out); conv weights (out, in, kH, kW)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"init: fan in/out needs a tensor of at least 2 dimensions, got {tensor.shape}"
        )
    if tensor.ndim == 2:
        return tensor.shape[0], tensor.shape[1]
    receptive = int(np.prod(tensor.shape[2:]))
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, *, rng: Any = None) -> Tensor:
    """Fill with draws from U(a, b): one ``rng.uniform(a, b, shape)`` call, in C order."""
    if not a <= b:
        raise ValueError(f"uniform_: lower bound {a} is above upper bound {b}")
    _fill(tensor, generator(rng).uniform(a, b, tensor.shape))
    return tensor


def zeros_(tensor: Tensor, *, rng: Any = None) -> Tensor:
    """Fill with zeros (draws nothing)."""
    _fill(tensor, 0.0)
    return tensor


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, *, rng: Any = None) -> Tensor:
    """Glorot: U(-g·√(6/(fan_in+fan_out)), +...), keeping activation variance across layers."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, *, gain: float | None = None, rng: Any = None
) -> Tensor:
    """He: U(-√(6/((1+a²)·fan_in)), +...), for ReLU-like layers (``a`` = leaky slope); with
    ``gain``, U(-gain·√(3/fan_in), +...) (PyTorch's bound for another nonlinearity's gain)."""
    fan_in, _ = _fans(tensor)
    if gain is None:
        bound = math.sqrt(6.0 / ((1 + a * a) * fan_in))
    else:
        bound = gain * math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -bound, bound, rng=rng)


def uniform(a: float, b: float) -> Callable[[Tensor, Any], Tensor]:
    """An initializer drawing U(a, b), for ``Linear(..., init=uniform(-r, r))``."""
    if not a <= b:
        raise ValueError(f"uniform: lower bound {a} is above upper bound {b}")
    return lambda tensor, rng: uniform_(tensor, a, b, rng=rng)


def zeros() -> Callable[[Tensor, Any], Tensor]:
    return lambda tensor, rng: zeros_(tensor)


def xavier_uniform(gain: float = 1.0) -> Callable[[Tensor, Any], Tensor]:
    return lambda tensor, rng: xavier_uniform_(tensor, gain, rng=rng)


def kaiming_uniform(a: float = 0.0, gain: float | None = None) -> Callable[[Tensor, Any], Tensor]:
    return lambda tensor, rng: kaiming_uniform_(tensor, a, gain=gain, rng=rng)


# ------------------------------------------------------------------ gains and normal draws
def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for a nonlinearity: the factor that keeps the variance of a
    layer's output equal to its input's (``param``: leaky ReLU's negative slope)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param  # PyTorch's default negative slope
        return math.sqrt(2.0 / (1 + slope * slope))
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one of identity, "
        "leaky_relu, linear, relu, sigmoid, tanh"
    )


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, *, rng: Any = None) -> Tensor:
    """Fill with draws from N(mean, std²): one ``rng.normal(mean, std, shape)`` call, C order."""
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    _fill(tensor, generator(rng).normal(mean, std, tensor.shape))
    return tensor


def xavier_normal_(tensor: Tensor, gain: float = 1.0, *, rng: Any = None) -> Tensor:
    """Glorot: N(0, g²·2/(fan_in+fan_out)), the normal twin of `xavier_uniform_`."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, *, gain: float | None = None, rng: Any = None
) -> Tensor:
    """He: N(0, gain²/fan_in) with gain √(2/(1+a²)) (ReLU-like, ``a`` = leaky slope) unless
    ``gain`` is given; the normal twin of `kaiming_uniform_`."""
    fan_in, _ = _fans(tensor)
    gain = math.sqrt(2.0 / (1 + a * a)) if gain is None else gain
    return normal_(tensor, 0.0, gain / math.sqrt(fan_in), rng=rng)


def normal(mean: float = 0.0, std: float = 1.0) -> Callable[[Tensor, Any], Tensor]:
    return lambda tensor, rng: normal_(tensor, mean, std, rng=rng)


def xavier_normal(gain: float = 1.0) -> Callable[[Tensor, Any], Tensor]:
    return lambda tensor, rng: xavier_normal_(tensor, gain, rng=rng)


def kaiming_normal(a: float = 0.0, gain: float | None = None) -> Callable[[Tensor, Any], Tensor]:
    return lambda tensor, rng: kaiming_normal_(tensor, a, gain=gain, rng=rng)
