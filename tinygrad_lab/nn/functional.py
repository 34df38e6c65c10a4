"""`tinygrad_lab.nn.functional`, PyTorch's ``F``: each layer as a plain function of its input and
weights, with PyTorch's names, argument names and defaults (``dim`` where PyTorch says dim),
each a thin call of the same op the layer uses::

    import tinygrad_lab.nn.functional as F

    y = F.relu(F.conv2d(x, w, b, padding=1))
    loss = F.cross_entropy(F.linear(y.reshape(len(y), -1), w2), labels)

Where this differs from PyTorch: ``linear`` takes PyTorch's (out, in) weight, the transpose of
`nn.Linear`'s notebook layout; an option PyTorch has and the op does not (``groups``,
``return_indices``, ``pad``'s other modes, ...) is a ValueError saying it is not supported yet,
never ignored; ``dropout`` draws its mask from ``rng=``, as everything random here does; a
loss's options after its inputs (and ``weight``) are keyword-only where PyTorch puts its
deprecated ``size_average`` and ``reduce`` first.
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
__all__ += ["l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy", "nll_loss"]
__all__ += ["binary_cross_entropy_with_logits", "layer_norm", "embedding"]


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


def layer_norm(
    input: Any,  # noqa: A002
    normalized_shape: int | tuple[int, ...],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each example over its last axes, ``normalized_shape``, by their own mean and
    biased variance; then scale by ``weight`` and shift by ``bias`` (each of that shape)."""
    shape = (normalized_shape,) if np.ndim(normalized_shape) == 0 else tuple(normalized_shape)
    return ops.LayerNorm.apply(input, weight, bias, normalized_shape=shape, eps=eps)


# ------------------------------------------------------------------------- embedding
def _padding_index(function: str, padding_idx: Any, rows: int) -> int | None:
    """``padding_idx`` counted from the start (a negative one from the end), or None."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int | np.integer):
        raise TypeError(f"{function}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -rows <= padding_idx < rows:
        raise ValueError(
            f"{function}: padding_idx {padding_idx} is out of range for {rows} embeddings "
            f"(expected {-rows} to {rows - 1})"
        )
    return int(padding_idx) % rows


def _indices(function: str, input: Any, rows: int) -> np.ndarray:  # noqa: A002
    """The lookup indices as an integer array, each in 0..rows-1 (a negative one is an error,
    not NumPy's count from the end)."""
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    if data.dtype.kind not in "iuf" or not np.array_equal(data, np.round(data)):
        raise TypeError(f"{function}: indices must be whole numbers, got {data!r:.80}")
    if data.size and not (data.min() >= 0 and data.max() < rows):
        bad = data[(data < 0) | (data >= rows)].flat[0]
        raise IndexError(
            f"{function}: index {bad:g} is out of range for {rows} embeddings (0 to {rows - 1})"
        )
    return data.astype(np.intp)


def embedding(
    input: Any,  # noqa: A002
    weight: Any,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) at integer ``input`` (any shape): (..., dim).
    Lookups at ``padding_idx`` pass no gradient to its row."""
    _unsupported(
        "embedding",
        max_norm=(max_norm, None),
        scale_grad_by_freq=(scale_grad_by_freq, False),
        sparse=(sparse, False),
    )
    weight = _tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, dim), got {weight.shape}")
    rows = weight.shape[0]
    padding_idx = _padding_index("embedding", padding_idx, rows)
    indices = _indices("embedding", input, rows)
    out = weight[indices]
    if padding_idx is not None and out.requires_grad and (indices == padding_idx).any():
        # the lookups of the padding row pass no gradient back: zero theirs on the way
        keep = (indices != padding_idx)[..., None].astype(out.dtype)
        out.register_hook(lambda grad: grad.data * keep)
    return out


# ------------------------------------------------------------------------- losses
# PyTorch's signatures, except that where PyTorch puts its deprecated ``size_average`` and
# ``reduce`` before ``reduction``, everything after the inputs (and ``weight``) is keyword-only:
# no option is read from a position that means another in PyTorch. Loss weights are constants.
def _constant(function: str, name: str, value: Any) -> np.ndarray | None:
    """A loss weight as an array, never differentiated: one that requires grad is refused
    (it would silently get no gradient)."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise TypeError(
                f"{function}: {name} requires grad, but loss weights are constants here (no "
                f"gradient reaches them); pass {name}.detach()"
            )
        return value.data
    return None if value is None else np.asarray(value, dtype=np.float64)


def mse_loss(input: Any, target: Any, *, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Squared errors, averaged (``"mean"``), summed (``"sum"``) or each (``"none"``). The
    shapes must match: a (N,) input against a (N, 1) target is an error, not a broadcast."""
    if reduction == "mean":
        return ops.MSE.apply(input, target)
    x, t = _tensor(input), _tensor(target)
    if x.shape != t.shape:
        raise ValueError(f"mse_loss: input shape {x.shape} and target shape {t.shape} differ")
    if reduction not in ops.REDUCTIONS:
        raise ValueError(f"mse_loss: reduction must be one of {ops.REDUCTIONS}, got {reduction!r}")
    squares = (x - t).square()
    return squares.sum() if reduction == "sum" else squares


def l1_loss(input: Any, target: Any, *, reduction: str = "mean") -> Tensor:  # noqa: A002
    """|input - target|, averaged, summed or each; the shapes must match."""
    return ops.L1.apply(input, target, reduction=reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:  # noqa: A002
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta), of d = input - target."""
    return ops.Huber.apply(input, target, reduction=reduction, delta=delta)


def smooth_l1_loss(
    input: Any,  # noqa: A002
    target: Any,
    *,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta, of d = input - target (beta = 0:
    the L1 loss)."""
    return ops.SmoothL1.apply(input, target, reduction=reduction, beta=beta)


def binary_cross_entropy(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """-weight·(y·log x + (1 - y)·log(1 - x)) of probabilities x in [0, 1], each log clamped
    at -100 as PyTorch does."""
    weight = _constant("binary_cross_entropy", "weight", weight)
    return ops.BinaryCrossEntropy.apply(input, target, weight=weight, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    *,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """The binary cross-entropy of sigmoid(input), computed stably from the logits;
    ``pos_weight`` (one per class, along the last axis) weighs the positive term."""
    name = "binary_cross_entropy_with_logits"
    weights = {
        "weight": _constant(name, "weight", weight),
        "pos_weight": _constant(name, "pos_weight", pos_weight),
    }
    return ops.BinaryCrossEntropyWithLogits.apply(input, target, **weights, reduction=reduction)


def nll_loss(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """-weight[t]·input[n, t] of log-probabilities (N, C) (or (N, C, d1, ...), or (C,)) and
    class indices t; targets equal to ``ignore_index`` count for nothing, and "mean" divides
    by the summed weights of those that count."""
    x, labels = _tensor(input), _tensor(target).data
    ops.check_class_targets("nll_loss", x.shape, labels, ignore_index)
    weight = _constant("nll_loss", "weight", weight)
    return ops.NLL.apply(x, labels, weight=weight, ignore_index=ignore_index, reduction=reduction)


def cross_entropy(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """-log softmax(input)[t] of logits (N, C) (or (N, C, d1, ...), or (C,)) and class indices
    t, through a stable log-softmax: `nll_loss` of ``log_softmax(input, dim=1)``, with its
    ``weight``, ``ignore_index`` and reductions."""
    _unsupported("cross_entropy", label_smoothing=(label_smoothing, 0.0))
    x, labels = _tensor(input), _tensor(target).data
    ops.check_class_targets("cross_entropy", x.shape, labels, ignore_index)
    plain = weight is None and x.ndim == 2 and not (labels == ignore_index).any()
    if plain and reduction == "mean":  # the one fused node the lab trains with
        return ops.CrossEntropy.apply(x, labels)
    log_probs = ops.LogSoftmax.apply(x, axis=1 if x.ndim >= 2 else 0)
    return nll_loss(log_probs, labels, weight, ignore_index=ignore_index, reduction=reduction)
