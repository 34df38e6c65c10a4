"""Pooling layers: `MaxPool2d` and `AvgPool2d` on NCHW input, each a few lines over its op."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab import ops
from tinygrad_lab.nn.module import Module
from tinygrad_lab.tensor import Tensor


def _pair(layer: str, name: str, value: Any, low: int) -> tuple[int, int]:
    """An integer or a (height, width) pair of integers, each >= ``low``; else a ValueError."""
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    whole = all(not isinstance(v, bool) and np.ndim(v) == 0 and int(v) == v for v in pair)
    if len(pair) != 2 or not whole or min(pair) < low:
        raise ValueError(
            f"{layer}: {name} must be an integer >= {low} or a pair of them, got {value!r}"
        )
    return int(pair[0]), int(pair[1])


class _Pool2d(Module):
    op: type[ops.MaxPool2d] | type[ops.AvgPool2d]

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair(name, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair(name, "stride", stride, 1)
        self.padding = _pair(name, "padding", padding, 0)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(
                f"{name}: padding {self.padding} must be at most half the window "
                f"{self.kernel_size} (so that no window is all padding)"
            )

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} expects input (N, C, H, W), got {x.shape}")
        return self.op.apply(
            x, kernel_size=self.kernel_size, stride=self.stride, padding=self.padding
        )

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Spatial size of the output for an input of ``height × width`` (an `OutputSizeError`
        when the windows do not tile it)."""
        shape = (1, 1, height, width)
        name = type(self).__name__
        return ops.pool_output_size(name, shape, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Largest entry of each kH×kW window; ``stride`` defaults to the window, so windows tile
    the input without overlap. The windows must tile the padded input exactly."""

    op = ops.MaxPool2d


class AvgPool2d(_Pool2d):
    """Mean of each kH×kW window (padding counts as zeros); otherwise as `MaxPool2d`."""

    op = ops.AvgPool2d
