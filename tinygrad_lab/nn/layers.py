"""Layers with parameters, and the layers that reshape (`Flatten`, `Unflatten`). Each is a few
lines over an op: read one, then write your own. The activation layers are in `activations.py`,
beside their registry; the losses in `loss.py`."""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np

from tinygrad_lab import ops
from tinygrad_lab.nn import init as nn_init
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.ops.conv import side_size
from tinygrad_lab.tensor import Tensor

Initializer = Callable[[Tensor, Any], None]  # fills a tensor in place from a random generator


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Linear(Module):
    """``y = x @ W + b`` with ``weight`` of shape (in_features, out_features), the course
    notebook's layout (PyTorch stores the transpose), and ``bias`` of shape (out_features,).

    ``init`` fills the weight (biases start at zero when it is given), e.g.
    ``init=nn.init.uniform(-r, r)``; without it, PyTorch's default U(-1/√in, 1/√in) for both.
    ``rng`` is the generator every draw comes from (``np.random.Generator`` or ``RandomState``).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        init: Initializer | None = None,
        bias_init: Initializer | None = None,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(
                f"Linear: features must be positive, got {in_features} → {out_features}"
            )
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = nn_init.generator(rng)
        self.weight = Parameter(np.zeros((in_features, out_features)), dtype=dtype)
        self.bias = Parameter(np.zeros(out_features), dtype=dtype) if bias else None
        if init is None:
            bound = 1 / np.sqrt(in_features)
            init = nn_init.uniform(-bound, bound)
            bias_init = bias_init or init
        init(self.weight, rng)
        if self.bias is not None:
            (bias_init or nn_init.zeros())(self.bias, rng)

    def forward(self, x: Any) -> Tensor:
        try:
            if self.bias is None:
                return ops.Affine.apply(x, self.weight)
            return ops.Affine.apply(x, self.weight, self.bias)
        except ValueError:  # a wrong input shape, named for the layer (checked only on failure)
            shape = np.shape(x.data if isinstance(x, Tensor) else x)
            if shape[-1:] != (self.in_features,):
                raise ValueError(
                    f"{self.extra_repr_short()} expects input (..., {self.in_features}), "
                    f"got {shape}"
                ) from None
            raise

    def extra_repr_short(self) -> str:
        return f"Linear({self.in_features} → {self.out_features})"

    def extra_repr(self) -> str:
        return f"{self.in_features} → {self.out_features}" + (
            "" if self.bias is not None else ", bias=False"
        )


def _whole(layer: str, name: str, value: Any, low: int) -> int:
    """``value`` as a whole number >= ``low``, or a ValueError naming the layer and argument."""
    whole = isinstance(value, Real) and not isinstance(value, bool) and float(value).is_integer()
    if not whole or value < low:
        raise ValueError(f"{layer}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _sizes(layer: str, name: str, value: Any, low: int, dims: int) -> tuple[int, ...]:
    """An integer or ``dims`` integers (one a spatial axis), each >= ``low``."""
    sizes = (value,) * dims if np.ndim(value) == 0 else tuple(value)
    if len(sizes) != dims or isinstance(value, str):  # PyTorch's "same" is not supported yet
        many = "a pair of them" if dims == 2 else "a 1-tuple of one"
        raise ValueError(f"{layer}: {name} must be an integer or {many}, got {value!r}")
    return tuple(_whole(layer, name, v, low) for v in sizes)


class _ConvNd(Module):
    """What `Conv1d` and `Conv2d` share: the arguments, PyTorch's weight layout and default
    initialization, and the output size. Both run the one 2-D convolution op."""

    dims: int  # spatial axes
    axes: tuple[str, ...]  # their letters in a shape ("H", "W")
    sides: tuple[str, ...]  # and their names in errors ("height", "width")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        init: Initializer | None = None,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        name, dims = type(self).__name__, self.dims
        in_channels = _whole(name, "in_channels", in_channels, 1)
        out_channels = _whole(name, "out_channels", out_channels, 1)
        self.groups = _whole(name, "groups", groups, 1)
        if in_channels % self.groups or out_channels % self.groups:
            raise ValueError(
                f"{name}: in_channels {in_channels} and out_channels {out_channels} must both "
                f"split into groups={self.groups}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _sizes(name, "kernel_size", kernel_size, 1, dims)
        self.stride = _sizes(name, "stride", stride, 1, dims)
        self.padding = _sizes(name, "padding", padding, 0, dims)
        self.dilation = _sizes(name, "dilation", dilation, 1, dims)
        rng = nn_init.generator(rng)
        shape = (out_channels, in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.zeros(shape), dtype=dtype)
        self.bias = Parameter(np.zeros(out_channels), dtype=dtype) if bias else None
        fan_in = int(np.prod(shape[1:]))  # PyTorch's default bound: C/groups · kernel's area
        bound = 1 / np.sqrt(fan_in)
        (init or nn_init.uniform(-bound, bound))(self.weight, rng)
        if self.bias is not None:
            (nn_init.zeros() if init else nn_init.uniform(-bound, bound))(self.bias, rng)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if x.ndim != 2 + self.dims or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}({self.in_channels} → {self.out_channels}) expects input "
                f"(N, {self.in_channels}, {', '.join(self.axes)}), got {x.shape}"
            )
        return self._convolve(x)

    def _convolve(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def output_size(self, *sizes: int) -> tuple[int, ...]:
        """The output's spatial size for an input of these sizes (``height, width`` for
        `Conv2d`, ``length`` for `Conv1d`), PyTorch's, floored: an `OutputSizeError` when the
        kernel does not fit the padded input."""
        if len(sizes) != self.dims:
            raise TypeError(
                f"{type(self).__name__}.output_size takes {', '.join(self.sides)}, got {sizes}"
            )
        return self._output_sides((1, self.in_channels, *sizes))

    def _output_sides(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output's sides for an input of ``shape``; an error names the layer and shape."""
        name = type(self).__name__
        geometry = (self.kernel_size, self.stride, self.padding, self.dilation)
        sides = zip(self.sides, shape[2:], *geometry, strict=True)
        return tuple(side_size(name, shape, *side) for side in sides)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels} → {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )
        if set(self.dilation) != {1}:
            text += f", dilation={self.dilation}"
        return text + (f", groups={self.groups}" if self.groups != 1 else "")


class Conv2d(_ConvNd):
    """2-D convolution on NCHW input. ``weight`` is (out_channels, in_channels / groups, kH, kW)
    and ``bias`` (out_channels,), as PyTorch lays them out. ``kernel_size``, ``stride``,
    ``padding`` and ``dilation`` are ints or (height, width) pairs. The output's sides are
    PyTorch's, floored: the windows need not tile the input."""

    dims, axes, sides = 2, ("H", "W"), ("height", "width")

    def _convolve(self, x: Tensor) -> Tensor:
        params = (self.weight,) if self.bias is None else (self.weight, self.bias)
        settings = dict(
            stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups
        )
        return ops.Conv2d.apply(x, *params, **settings)


class Conv1d(_ConvNd):
    """1-D convolution on (N, C, L) input, e.g. a sequence of C features. ``weight`` is
    (out_channels, in_channels / groups, k) as in PyTorch; it runs as `Conv2d` on a height of
    one, so it is that op, and its gradients, exactly."""

    dims, axes, sides = 1, ("L",), ("length",)

    def _convolve(self, x: Tensor) -> Tensor:
        n, c, length = x.shape
        o, per_group, k = self.weight.shape
        params = [self.weight.reshape(o, per_group, 1, k)]
        params += [] if self.bias is None else [self.bias]
        settings = dict(
            stride=(1, *self.stride),
            padding=(0, *self.padding),
            dilation=(1, *self.dilation),
            groups=self.groups,
        )
        try:
            out = ops.Conv2d.apply(x.reshape(n, c, 1, length), *params, **settings)
        except ValueError:  # named for this layer and its length (checked only on failure)
            self._output_sides(x.shape)
            raise
        return out.reshape(n, o, -1)


class Flatten(Module):
    """Flatten the axes ``start_dim`` to ``end_dim`` (both included, negative counting from
    the end) into one, as PyTorch: the default (N, C, H, W) → (N, C·H·W)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = _dim("Flatten", start_dim), _dim("Flatten", end_dim)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        shape = x.shape or (1,)  # a 0-d tensor flattens as a 1-d one of one entry, as PyTorch
        start, end = (_axis("Flatten", d, len(shape)) for d in (self.start_dim, self.end_dim))
        if start > end:
            raise ValueError(
                f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} for "
                f"input of shape {x.shape}"
            )
        return x.reshape(*shape[:start], -1, *shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (one entry may be -1, worked out), the
    inverse of `Flatten`: ``Unflatten(1, (C, H, W))`` takes (N, C·H·W) to (N, C, H, W)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        self.dim = _dim("Unflatten", dim)
        sizes = unflattened_size
        if not isinstance(sizes, tuple | list) or not sizes:
            raise TypeError(
                f"Unflatten: unflattened_size must be a non-empty tuple or list of ints, "
                f"got {sizes!r}"
            )
        sizes = tuple(_dim("Unflatten", n) for n in sizes)
        if min(sizes) < -1 or sizes.count(-1) > 1:
            raise ValueError(
                f"Unflatten: unflattened_size {sizes} must be sizes >= 0, with at most one -1"
            )
        self.unflattened_size = sizes

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        axis = _axis("Unflatten", self.dim, x.ndim)
        n, sizes = x.shape[axis], self.unflattened_size
        known = int(np.prod([s for s in sizes if s != -1]))
        fits = known == n if -1 not in sizes else known > 0 and n % known == 0
        if not fits:
            raise ValueError(
                f"Unflatten: sizes {sizes} do not multiply up to the size {n} of axis "
                f"{self.dim} of input {x.shape}"
            )
        return x.reshape(*x.shape[:axis], *sizes, *x.shape[axis + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _dim(layer: str, value: Any) -> int:
    """``value`` as an int (an axis or a size), or a TypeError naming the layer."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{layer}: expected an int, got {value!r:.40}")
    return int(value)


def _axis(layer: str, dim: int, ndim: int) -> int:
    """Axis ``dim`` of an ``ndim``-d input counted from the start, or an IndexError."""
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{layer}: dim {dim} is out of range for a {ndim}-d input "
            f"(expected {-ndim} to {ndim - 1})"
        )
    return dim % ndim
