"""Smooth and clipped activations beyond `elementwise`'s ReLU, LeakyReLU, Sigmoid and Tanh, each
as ``torch.nn.functional`` defines it. Each registration (``layer=True``) also makes its ``nn``
layer and its entry in the activation registry. At a kink, the derivative is PyTorch's choice
(said per op)."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_lab.differentiable import call
from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function, Tensor

__all__ = ["Softplus", "GELU", "SiLU", "ELU", "ReLU6", "Hardswish", "Mish"]

SQRT_HALF = math.sqrt(0.5)
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)  # of the tanh approximation of GELU
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)  # of the standard normal density


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e⁻ᶻ) without overflow: exp of a non-positive number only."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(z: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # (NumPy warns of a NaN input: NaN in, NaN out)
        return np.logaddexp(0, z)  # log(1 + eᶻ), stable


def _erf(z: np.ndarray) -> np.ndarray:
    """erf entry by entry, from the C library (NumPy has no erf): exact, but a Python loop."""
    return np.fromiter(map(math.erf, z.flat), dtype=z.dtype, count=z.size).reshape(z.shape)


class Softplus(Function):
    """log(1 + e^(βx)) / β, computed stably for every x (PyTorch switches to x above a
    threshold instead)."""

    @staticmethod
    def forward(ctx, x, beta=1.0):
        if not beta > 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta!r}")
        ctx.beta = beta
        ctx.save_for_backward(x)
        return _softplus(beta * x) / beta

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _sigmoid(ctx.beta * x)  # softplus'(x) = σ(βx)


register("softplus", Softplus, layer=True)


GELU_APPROXIMATIONS = ("none", "tanh")


class GELU(Function):
    """x Φ(x), Φ the standard normal distribution function, Φ(x) = (1 + erf(x/√2)) / 2; or with
    ``approximate="tanh"``, ``x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2``, as PyTorch's."""

    @staticmethod
    def forward(ctx, x, approximate="none"):
        if approximate not in GELU_APPROXIMATIONS:
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            return 0.5 * x * (1 + _gelu_tanh(x))
        return x * call(NormalCDF, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = _gelu_tanh(x)
            inner_slope = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            # d/dx x(1 + t)/2 = (1 + t)/2 + x (1 - t²) u'/2, u the argument of tanh
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner_slope)
        cdf = call(NormalCDF, x)  # (an op: its own derivative, the density, is known)
        return grad * (cdf + x * _normal_density(x))  # (x Φ(x))' = Φ(x) + x φ(x)


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    """tanh(√(2/π) (x + 0.044715 x³)), the tanh approximation's Φ(x) as 2Φ - 1."""
    return np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))


def _normal_density(x: np.ndarray) -> np.ndarray:
    return INV_SQRT_2PI * np.exp(-0.5 * x * x)  # φ(x) = e^(-x²/2) / √(2π)


class NormalCDF(Function):
    """Φ(x) = (1 + erf(x/√2)) / 2, the standard normal distribution function (GELU's)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (1 + _erf(x * SQRT_HALF))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _normal_density(x)  # Φ' = φ


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x) (``approximate="none"``), or its tanh approximation (``"tanh"``)."""
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate=approximate)


register("gelu", GELU, method=gelu, layer=True)


class SiLU(Function):
    """x · σ(x) (also called swish)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * _sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = _sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))  # (x σ)' = σ + x σ (1 - σ)


register("silu", SiLU, layer=True)


class ELU(Function):
    """x where x > 0, else α (eˣ - 1). The derivative at 0 is α, the left one, and so is the
    second derivative there (α eˣ at 0), as PyTorch's."""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        ctx.alpha = alpha
        below = alpha * np.expm1(np.minimum(x, 0))  # (no overflow in the branch not taken)
        out = np.where(x > 0, x, below)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return grad * np.where(x > 0, 1, out + ctx.alpha)  # 1 above 0, α eˣ = out + α below


register("elu", ELU, layer=True)


class ReLU6(Function):
    """min(max(x, 0), 6). The derivative is 0 at both kinks, 0 and 6 (as ReLU's at 0); the
    second derivative is 0 everywhere (as PyTorch's)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.clip(x, 0, 6)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x > 0) & (x < 6))  # 1 strictly between 0 and 6, else 0


register("relu6", ReLU6, layer=True, dead_below_zero=True)


class Hardswish(Function):
    """x · relu6(x + 3) / 6. At the kinks PyTorch's derivative: 0 at -3 and 1 at 3 (the slope
    of the flat piece beyond each, as in PyTorch 2), and its second derivative there: 0 (1/3
    strictly between)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # 0 up to -3 (included), (2x + 3)/6 strictly between -3 and 3, 1 from 3 on (included)
        return grad * np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1))


register("hardswish", Hardswish, layer=True)


class Mish(Function):
    """x · tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.tanh(_softplus(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = np.tanh(_softplus(x))
        # (x tanh(sp x))' = tanh(sp x) + x (1 - tanh²(sp x)) σ(x), as sp' = σ
        return grad * (t + x * (1 - t * t) * _sigmoid(x))


register("mish", Mish, layer=True)
