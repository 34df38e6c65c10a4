"""Dropout: multiply by a random mask of zeros and 1 / (1 - p), drawn from a given generator."""

from __future__ import annotations

from tinygrad_lab.tensor import Function

__all__ = ["Dropout"]


class Dropout(Function):
    """Zero each entry with probability ``p`` and scale the others by 1 / (1 - p). The mask is
    drawn from ``rng`` (``rng.random(shape)``: one uniform draw an entry, in C order)."""

    @staticmethod
    def forward(ctx, x, p, rng):
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        keep = rng.random(x.shape) >= p
        scale = 0.0 if p == 1 else 1 / (1 - p)
        ctx.scale = x.dtype.type(scale)  # (in x's dtype: float32 stays float32)
        ctx.save_for_backward(keep)  # a bool mask: a constant to a second derivative (0)
        return x * (keep * ctx.scale)

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return grad * (keep * ctx.scale)  # d(x·mask)/dx = mask: zeros and 1/(1-p)
