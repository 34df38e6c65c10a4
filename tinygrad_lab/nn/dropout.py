"""`Dropout`: in training, zero each entry with probability ``p`` and scale the others by
1 / (1 - p), so the expected output is the input; in evaluation, the identity."""

from __future__ import annotations

from typing import Any

from tinygrad_lab import ops
from tinygrad_lab.nn import init as nn_init
from tinygrad_lab.nn.module import Module
from tinygrad_lab.tensor import Tensor


class Dropout(Module):
    """``Dropout(p, rng=...)``: every mask is drawn from ``rng`` (a ``np.random.Generator``, a
    ``RandomState`` or an int seed), so a run is reproducible; ``model.eval()`` turns it off."""

    def __init__(self, p: float = 0.5, *, rng: Any = None) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.rng = nn_init.generator(rng)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if not self.training or self.p == 0:
            return x
        return ops.Dropout.apply(x, p=self.p, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
