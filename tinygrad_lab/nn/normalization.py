"""`BatchNorm1d` and `BatchNorm2d`: normalise each channel by the batch's statistics while
training, and by running averages of them in evaluation (``model.eval()``), as PyTorch does.

The running statistics (``running_mean``, ``running_var``) are buffers, not parameters: the
optimizer never sees them, and ``state_dict()`` holds them, so a saved model keeps them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab import ops
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.tensor import Tensor


class _BatchNorm(Module):
    dims: tuple[int, ...]  # the input ranks accepted
    layout: str  # how the expected input is shown in errors

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        *,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or int(num_features) != num_features or num_features < 1:
            raise ValueError(
                f"{name}: num_features must be a positive integer, got {num_features!r}"
            )
        if not eps > 0 or not 0 <= momentum <= 1:
            raise ValueError(f"{name}: need eps > 0 and 0 <= momentum <= 1, got {eps}, {momentum}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.weight = Parameter(np.ones(self.num_features), dtype=dtype)  # γ
        self.bias = Parameter(np.zeros(self.num_features), dtype=dtype)  # β
        self.register_buffer("running_mean", np.zeros(self.num_features, self.weight.dtype))
        self.register_buffer("running_var", np.ones(self.num_features, self.weight.dtype))

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input "
                f"{self.layout.format(C=self.num_features)}, got {x.shape}"
            )
        return ops.BatchNorm.apply(
            x,
            self.weight,
            self.bias,
            running_mean=self.running_mean,
            running_var=self.running_var,
            training=self.training,
            momentum=self.momentum,
            eps=self.eps,
        )

    def reset_running_stats(self) -> None:
        self.running_mean[...] = 0
        self.running_var[...] = 1

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) input: statistics per channel C, over N (and L)."""

    dims, layout = (2, 3), "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) input: statistics per channel C, over N, H and W."""

    dims, layout = (4,), "(N, {C}, H, W)"
