"""`BatchNorm1d` and `BatchNorm2d`: normalise each channel by the batch's statistics while
training, and by running averages of them in evaluation (``model.eval()``), as PyTorch does;
`LayerNorm`: normalise each example over its last axes by its own statistics.

The running statistics (``running_mean``, ``running_var``, and ``num_batches_tracked``, the
number of training batches seen) are buffers, not parameters: the optimizer never sees them,
and ``state_dict()`` holds them, so a saved model keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_lab import ops
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.tensor import Tensor


class _BatchNorm(Module):
    """``momentum`` moves each running statistic ``r = (1 - momentum)·r + momentum·batch``;
    ``momentum=None`` makes it the plain (cumulative) average of every batch so far, by
    ``momentum = 1 / num_batches_tracked``, as PyTorch. Without ``affine`` there is no weight
    and bias; without ``track_running_stats`` no running statistics: the batch's own are used
    in evaluation too."""

    dims: tuple[int, ...]  # the input ranks accepted
    layout: str  # how the expected input is shown in errors

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or int(num_features) != num_features or num_features < 1:
            raise ValueError(
                f"{name}: num_features must be a positive integer, got {num_features!r}"
            )
        if not eps > 0 or not (momentum is None or 0 <= momentum <= 1):
            raise ValueError(
                f"{name}: need eps > 0 and 0 <= momentum <= 1 (or None), got {eps}, {momentum}"
            )
        self.num_features, self.eps = int(num_features), float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Parameter(np.ones(self.num_features), dtype=dtype) if affine else None  # γ
        self.bias = Parameter(np.zeros(self.num_features), dtype=dtype) if affine else None  # β
        float_type = np.dtype(dtype)
        stats = track_running_stats
        self.register_buffer(
            "running_mean", np.zeros(self.num_features, float_type) if stats else None
        )
        self.register_buffer(
            "running_var", np.ones(self.num_features, float_type) if stats else None
        )
        self.register_buffer("num_batches_tracked", np.zeros((), np.int64) if stats else None)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input "
                f"{self.layout.format(C=self.num_features)}, got {x.shape}"
            )
        counting = self.training and self.num_batches_tracked is not None
        momentum = self.momentum
        if momentum is None:  # the cumulative average: this batch counts 1 / (batches so far)
            momentum = 1 / (int(self.num_batches_tracked) + 1) if counting else 0.0
        if self.affine:
            weight, bias = self.weight, self.bias
        else:
            weight, bias = np.ones(self.num_features, x.dtype), np.zeros(self.num_features, x.dtype)
        out = ops.BatchNorm.apply(
            x,
            weight,
            bias,
            running_mean=self.running_mean,
            running_var=self.running_var,
            training=self.training or self.running_mean is None,
            momentum=momentum,
            eps=self.eps,
        )
        if counting:  # after the op: a batch that failed is not counted
            self.num_batches_tracked += 1
        return out

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def extra_repr(self) -> str:
        text = f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
        if not self.affine:
            text += ", affine=False"
        return text + ("" if self.track_running_stats else ", track_running_stats=False")


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) input: statistics per channel C, over N (and L)."""

    dims, layout = (2, 3), "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) input: statistics per channel C, over N, H and W."""

    dims, layout = (4,), "(N, {C}, H, W)"


class LayerNorm(Module):
    """Normalise each example over its last axes, ``normalized_shape`` (an int for the last
    axis alone), by their own mean and biased variance, then scale by ``weight`` (ones) and
    shift by ``bias`` (zeros), each of ``normalized_shape``: ``elementwise_affine=False``
    leaves both out, ``bias=False`` the bias. The same in training and evaluation."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if np.ndim(normalized_shape) == 0 else normalized_shape
        if not all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in shape):
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a tuple of ints, got "
                f"{normalized_shape!r}"
            )
        if not shape or min(shape) < 1:
            raise ValueError(
                f"LayerNorm: normalized_shape must be sizes >= 1, got {normalized_shape!r}"
            )
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps!r}")
        self.normalized_shape, self.eps = tuple(int(n) for n in shape), float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = (
            Parameter(np.ones(self.normalized_shape), dtype) if elementwise_affine else None
        )
        has_bias = elementwise_affine and bias
        self.bias = Parameter(np.zeros(self.normalized_shape), dtype) if has_bias else None

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        shape = self.normalized_shape
        if x.shape[-len(shape) :] != shape:
            raise ValueError(
                f"LayerNorm({shape}) expects input (..., {', '.join(map(str, shape))}), "
                f"got {x.shape}"
            )
        return ops.LayerNorm.apply(x, self.weight, self.bias, normalized_shape=shape, eps=self.eps)

    def extra_repr(self) -> str:
        text = f"{self.normalized_shape}, eps={self.eps}"
        if not self.elementwise_affine:
            return text + ", elementwise_affine=False"
        return text + ("" if self.bias is not None else ", bias=False")
