"""Pooling layers: `MaxPool2d` and `AvgPool2d` on NCHW input, each a few lines over its op, with
PyTorch's arguments in PyTorch's order. The output's sides are PyTorch's: floored (or with
``ceil_mode``, rounded up), so windows need not tile the input."""

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
    """What both pooling layers share: the window's geometry, checked before any input."""

    op: type[ops.MaxPool2d] | type[ops.AvgPool2d]

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None,
        padding: int | tuple[int, int],
        dilation: int | tuple[int, int],
        ceil_mode: bool,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair(name, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair(name, "stride", stride, 1)
        self.padding = _pair(name, "padding", padding, 0)
        self.dilation = _pair(name, "dilation", dilation, 1)  # 1 for AvgPool2d, as in PyTorch
        self.ceil_mode = bool(ceil_mode)
        ops.check_pool_settings(name, self.kernel_size, self.stride, self.padding, self.dilation)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} expects input (N, C, H, W), got {x.shape}")
        return self.op.apply(x, **self._settings())

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Spatial size of the output for an input of ``height × width`` (an `OutputSizeError`
        when the window does not fit the padded input)."""
        name, shape = type(self).__name__, (1, 1, height, width)
        geometry = self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        return ops.pool_output_size(name, shape, *geometry)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self._settings().items())


class MaxPool2d(_Pool2d):
    """Largest entry of each kH×kW window; ``stride`` defaults to the window, so windows do not
    overlap. ``dilation`` spaces a window's entries apart, as in PyTorch; ``return_indices``
    is not supported yet (an error)."""

    op = ops.MaxPool2d

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        if return_indices:
            raise ValueError("MaxPool2d: return_indices=True is not supported yet")
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)

    def _settings(self) -> dict[str, Any]:
        return dict(
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            ceil_mode=self.ceil_mode,
        )


class AvgPool2d(_Pool2d):
    """Mean of each kH×kW window; ``stride`` as `MaxPool2d`. With ``count_include_pad``
    (PyTorch's default) the padding counts as zeros in the mean; ``divisor_override`` divides
    every window's sum by itself instead."""

    op = ops.AvgPool2d

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        ops.check_divisor("AvgPool2d", divisor_override)
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override

    def _settings(self) -> dict[str, Any]:
        return dict(
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
            divisor_override=self.divisor_override,
        )
