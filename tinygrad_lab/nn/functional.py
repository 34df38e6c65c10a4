"""`tinygrad_lab.nn.functional`, PyTorch's ``F``: each layer as a plain function of its input and
weights, with PyTorch's names, argument names and defaults (``dim`` where PyTorch says dim),
each a thin call of the same op the layer uses::

    import tinygrad_lab.nn.functional as F

    y = F.relu(F.conv2d(x, w, b, padding=1))
    loss = F.cross_entropy(F.linear(y.reshape(len(y), -1), w2), labels)

Where this differs from PyTorch: ``linear`` takes PyTorch's (out, in) weight, the transpose of
`nn.Linear`'s notebook layout; an option PyTorch has and the op does not (``return_indices``,
``pad``'s other modes, ...) is a ValueError saying it is not supported yet, never ignored;
``dropout`` draws its mask from ``rng=``, as everything random here does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab import ops
from tinygrad_lab.nn.init import generator
from tinygrad_lab.nn.pooling import _pair
from tinygrad_lab.ops.registry import functionals
from tinygrad_lab.tensor import Tensor

__all__ = [*functionals()]
__all__ += ["linear", "conv2d", "pad", "max_pool2d", "avg_pool2d", "dropout", "batch_norm"]
__all__ += ["mse_loss", "cross_entropy"]

REDUCTIONS = ("mean", "sum", "none")


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _unsupported(function: str, **options: tuple[Any, Any]) -> None:
    """A ValueError for the first option that is not at the only value supported so far."""
    for name, (value, supported) in options.items():
        if value != supported:
            raise ValueError(
                f"{function}: {name}={value!r} is not supported yet (only {name}={supported!r})"
            )


# ------------------------------------------------------------------------- activations
# relu, leaky_relu, sigmoid, tanh, gelu, ..., softmax and log_softmax: each made from its op's
# registration (`ops.registry.functionals`), with the op's settings as PyTorch names them.
globals().update(functionals())


def __getattr__(name: str) -> Any:
    """The function of an op registered after this module was imported."""
    found = functionals().get(name)
    if found is None:
        raise AttributeError(f"module 'tinygrad_lab.nn.functional' has no attribute {name!r}")
    return found


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(functionals()))


# ------------------------------------------------------------------------- layers
def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:  # noqa: A002
    """``input @ weightᵀ + bias`` with PyTorch's (out_features, in_features) weight, the
    transpose of `nn.Linear`'s: for a layer ``lin``, ``F.linear(x, lin.weight.T, lin.bias)``."""
    weight = _tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be (out_features, in_features), got {weight.shape}")
    if bias is None:
        return ops.Affine.apply(input, weight.T)
    return ops.Affine.apply(input, weight.T, bias)


def conv2d(
    input: Any,  # noqa: A002
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) of NCHW input with an (out, in / groups, kH, kW)
    weight; stride, padding and dilation are ints or (height, width) pairs. As `nn.Conv2d`,
    the output's sides are PyTorch's, floored."""
    params = (weight,) if bias is None else (weight, bias)
    settings = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return ops.Conv2d.apply(input, *params, **settings)


def pad(input: Any, pad: tuple[int, ...], mode: str = "constant", value: float = 0.0) -> Tensor:  # noqa: A002
    """Pad with ``value``. ``pad`` is PyTorch's: (left, right) of the last axis, then (left,
    right) of the one before it, and so on, for as many axes as it has pairs."""
    _unsupported("pad", mode=(mode, "constant"))
    x = _tensor(input)
    widths = [int(w) for w in pad]
    if len(widths) % 2 or len(widths) > 2 * x.ndim or min(widths, default=0) < 0:
        raise ValueError(
            f"pad: pad {tuple(pad)} must be pairs of whole numbers >= 0, at most one pair for "
            f"each of the {x.ndim} axes of shape {x.shape}"
        )
    pairs = [(widths[k], widths[k + 1]) for k in range(0, len(widths), 2)][::-1]
    return ops.Pad.apply(x, widths=[(0, 0)] * (x.ndim - len(pairs)) + pairs, value=value)


def max_pool2d(
    input: Any,  # noqa: A002
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """Largest entry of each window, as `nn.MaxPool2d` (PyTorch's output size, ``ceil_mode``
    and ``dilation``); ``return_indices`` is not supported yet."""
    _unsupported("max_pool2d", return_indices=(return_indices, False))
    geometry = _pool_geometry("max_pool2d", kernel_size, stride, padding)
    dilation = _pair("max_pool2d", "dilation", dilation, 1)
    return ops.MaxPool2d.apply(input, **geometry, dilation=dilation, ceil_mode=bool(ceil_mode))


def avg_pool2d(
    input: Any,  # noqa: A002
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean of each window, as `nn.AvgPool2d` (PyTorch's output size, ``ceil_mode``,
    ``count_include_pad`` and ``divisor_override``)."""
    return ops.AvgPool2d.apply(
        input,
        **_pool_geometry("avg_pool2d", kernel_size, stride, padding),
        ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad),
        divisor_override=divisor_override,
    )


def _pool_geometry(function: str, kernel_size: Any, stride: Any, padding: Any) -> dict:
    """The pooling op's settings, each a (height, width) pair; the stride defaults to the window."""
    kernel = _pair(function, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair(function, "stride", stride, 1)
    padding = _pair(function, "padding", padding, 0)
    return {"kernel_size": kernel, "stride": stride, "padding": padding}


def dropout(
    input: Any,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    rng: Any = None,
) -> Tensor:
    """In training, zero each entry with probability ``p`` (mask drawn from ``rng``: a
    Generator, a RandomState, a seed, or the package's default) and scale the rest by
    1 / (1 - p); otherwise the input itself."""
    _unsupported("dropout", inplace=(inplace, False))
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = _tensor(input)
    if not training or p == 0:
        return x
    return ops.Dropout.apply(x, p=p, rng=generator(rng))


def batch_norm(
    input: Any,  # noqa: A002
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) by the batch's statistics (``training``; the running
    ones, arrays of shape (C,), are then updated in place) or by the running ones; then scale
    by ``weight`` (default 1) and shift by ``bias`` (default 0)."""
    x = _tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...), got {x.shape}")
    weight = np.ones(x.shape[1], dtype=x.dtype) if weight is None else weight
    bias = np.zeros(x.shape[1], dtype=x.dtype) if bias is None else bias
    return ops.BatchNorm.apply(
        x,
        weight,
        bias,
        running_mean=_array(running_mean),
        running_var=_array(running_var),
        training=training,
        momentum=momentum,
        eps=eps,
    )


def _array(value: Any) -> np.ndarray | None:
    """A running statistic as the array the op updates in place (a Tensor's own data)."""
    return value.data if isinstance(value, Tensor) else value


# ------------------------------------------------------------------------- losses
def _reduce(function: str, losses: Tensor, reduction: str) -> Tensor:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{function}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return losses.sum() if reduction == "sum" else losses


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Squared errors, averaged (``"mean"``), summed (``"sum"``) or each (``"none"``). The
    shapes must match: a (N,) input against a (N, 1) target is an error, not a broadcast."""
    if reduction == "mean":
        return ops.MSE.apply(input, target)
    x, t = _tensor(input), _tensor(target)
    if x.shape != t.shape:
        raise ValueError(f"mse_loss: input shape {x.shape} and target shape {t.shape} differ")
    return _reduce("mse_loss", (x - t).square(), reduction)


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """-log softmax(input)[target] of logits (N, C) and class indices (N,), averaged, summed or
    each, through a stable log-softmax."""
    if reduction == "mean":
        return ops.CrossEntropy.apply(input, target)
    logits, labels = _tensor(input), _tensor(target).data
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(
            f"cross_entropy: input must be (N, C) and target (N,); got {logits.shape} and "
            f"{labels.shape}"
        )
    classes = logits.shape[1]
    valid = np.isfinite(labels) & (labels == np.round(labels)) & (labels >= 0) & (labels < classes)
    if not valid.all():
        k = int(np.flatnonzero(~valid)[0])
        raise ValueError(
            f"cross_entropy: target {labels[k]:g} at position {k} is not a class index in "
            f"0..{classes - 1}"
        )
    picked = logits.log_softmax(axis=1)[np.arange(len(labels)), labels.astype(np.intp)]
    return _reduce("cross_entropy", -picked, reduction)
