"""Batch and layer normalisation, one node each: normalise by a mean and variance, then scale
and shift, ``y = (x - mean) / √(var + eps) · weight + bias``. Batch norm takes the statistics
of each channel (axis 1) over the batch; layer norm those of each example over its last axes."""

from __future__ import annotations

import numpy as np

from tinygrad_lab.tensor import Function

__all__ = ["BatchNorm", "LayerNorm"]


def _channel_shape(x: np.ndarray) -> tuple[int, ...]:
    """(1, C, 1, ...): a per-channel vector shaped to broadcast against ``x``."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check(x, weight, bias, running_mean, running_var, training) -> None:
    """Shapes fit (input (N, C, ...), every per-channel array (C,)), before anything changes."""
    channels = x.shape[1] if x.ndim >= 2 else None
    if not channels or weight.shape != (channels,) or bias.shape != (channels,):
        raise ValueError(
            f"BatchNorm: input {x.shape} must be (N, C, ...) with weight {weight.shape} "
            f"and bias {bias.shape} both (C,)"
        )
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is None and not training:
            raise ValueError(f"BatchNorm: evaluation (training=False) needs {name}")
        if stat is not None:
            _check_running(name, stat, channels, training)
    both = training and running_mean is not None and running_var is not None
    if both and np.shares_memory(running_mean, running_var):  # each would overwrite the other
        raise ValueError("BatchNorm: running_mean and running_var share memory; give two arrays")
    if training and x.size // channels < 2:
        raise ValueError(
            f"BatchNorm: training needs more than one value per channel, got input {x.shape}"
        )


def _check_running(name: str, stat, channels: int, training: bool) -> None:
    """A running statistic is a (C,) ndarray; in training, a writeable float one: it is updated
    in place, and a failed update of the second after the first would leave them half-moved."""
    if not isinstance(stat, np.ndarray):
        raise TypeError(
            f"BatchNorm: {name} must be an ndarray (or a Tensor) of shape ({channels},), "
            f"got {type(stat).__name__}"
        )
    if stat.shape != (channels,):
        raise ValueError(f"BatchNorm: {name} {stat.shape} must be ({channels},)")
    if training and (stat.dtype.kind != "f" or not stat.flags.writeable):
        got = stat.dtype if stat.flags.writeable else "read-only"
        raise TypeError(
            f"BatchNorm: training updates {name} in place: it must be a writeable float32 or "
            f"float64 array, got {got}"
        )


def _batch_statistics(x, axes):
    """``(x - mean, mean, var)`` of the batch (keeping dims), the variance biased."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    return centered, mean, (centered * centered).mean(axis=axes, keepdims=True)


def _moved(x, mean, var, running_mean, running_var, momentum) -> list:
    """``(running, new values)`` pairs: each statistic moved towards the batch's (the variance
    unbiased). Worked out before any is written, so a failure writes neither."""
    count, channels = x.size // x.shape[1], x.shape[1]
    moves = []
    if running_mean is not None:
        moves.append(
            (running_mean, running_mean * (1 - momentum) + momentum * mean.reshape(channels))
        )
    if running_var is not None:
        unbiased = (momentum * count / (count - 1)) * var.reshape(channels)
        moves.append((running_var, running_var * (1 - momentum) + unbiased))
    return moves


def _normalized(x, axes, eps):
    """``(x̂, 1/√(var + eps))`` of ``x`` with its own mean and (biased) variance over ``axes``:
    forward's, and backward's again from ``x`` (so that it is differentiated again)."""
    centered, _, var = _batch_statistics(x, axes)
    inv_std = 1 / np.sqrt(var + eps)
    return centered * inv_std, inv_std


def _through_statistics(g, x_hat, inv_std, axes):
    """The gradient at x of x̂ = (x - mean) / √(var + eps) with the mean and (biased) variance
    taken over ``axes``, from ``g``, the gradient at x̂. x̂ depends on x through the mean and
    variance too: dx = (g - mean(g) - x̂·mean(g·x̂)) / √(var + eps)."""
    mean_g = g.mean(axis=axes, keepdims=True)
    mean_gx = (g * x_hat).mean(axis=axes, keepdims=True)
    return (g - mean_g - x_hat * mean_gx) * inv_std


class BatchNorm(Function):
    """As ``torch.nn.functional.batch_norm``: with ``training``, the statistics are the batch's
    own (over every axis but the channel axis 1, the variance biased), and ``running_mean`` and
    ``running_var`` (arrays of shape (C,), if given) are updated in place by
    ``r = (1 - momentum)·r + momentum·batch`` (the variance unbiased); without ``training``,
    the running statistics are used as constants."""

    @staticmethod
    def forward(
        ctx,
        x,
        weight,
        bias,
        running_mean=None,
        running_var=None,
        training=True,
        momentum=0.1,
        eps=1e-5,
    ):
        _check(x, weight, bias, running_mean, running_var, training)
        axes, moves, shape = (0, *range(2, x.ndim)), [], _channel_shape(x)
        if training:
            centered, mean, var = _batch_statistics(x, axes)
            moves = _moved(x, mean, var, running_mean, running_var, momentum)
        else:  # the running statistics, as they are now: constants, kept for backward
            ctx.mean, var = running_mean.reshape(shape).copy(), running_var.reshape(shape)
            centered = x - ctx.mean
        inv_std = 1 / np.sqrt(var + eps)
        x_hat = centered * inv_std
        out = x_hat * weight.reshape(shape) + bias.reshape(shape)
        for running, moved in moves:  # last: nothing after this can fail, all or nothing
            running[...] = moved
        ctx.axes, ctx.training, ctx.eps = axes, training, eps
        if not training:
            ctx.inv_std = inv_std
        ctx.save_for_backward(x, weight)  # (x̂ is computed again in backward)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs, axes = ctx.needs_input_grad, ctx.axes
        if ctx.training:
            x_hat, inv_std = _normalized(x, axes, ctx.eps)
        else:
            x_hat, inv_std = (x - ctx.mean) * ctx.inv_std, ctx.inv_std
        dx = None
        if needs[0]:
            g = grad * weight.reshape(inv_std.shape)  # the gradient at x̂
            # with fixed statistics (evaluation), dx = g / √(running_var + eps)
            dx = _through_statistics(g, x_hat, inv_std, axes) if ctx.training else g * inv_std
        dweight = (grad * x_hat).sum(axis=axes) if needs[1] else None  # dy/dweight = x̂
        dbias = grad.sum(axis=axes) if needs[2] else None  # dy/dbias = 1
        return dx, dweight, dbias


class LayerNorm(Function):
    """As ``torch.nn.functional.layer_norm``: normalise each example over its last
    ``len(normalized_shape)`` axes by their own mean and (biased) variance, then scale by
    ``weight`` and shift by ``bias`` (each of ``normalized_shape``, or None). The statistics
    are the input's own, in training and evaluation alike: nothing is kept between calls."""

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape, eps=1e-5):
        shape = tuple(normalized_shape)
        if not shape or x.shape[-len(shape) :] != shape:
            raise ValueError(f"LayerNorm: input {x.shape} must end in normalized_shape {shape}")
        for name, param in (("weight", weight), ("bias", bias)):
            if param is not None and param.shape != shape:
                raise ValueError(f"LayerNorm: {name} {param.shape} must be {shape}")
        axes = tuple(range(x.ndim - len(shape), x.ndim))
        x_hat, _ = _normalized(x, axes, eps)
        out = x_hat if weight is None else x_hat * weight
        if bias is not None:
            out = out + bias
        ctx.axes, ctx.eps = axes, eps
        ctx.save_for_backward(x, weight)  # (x̂ is computed again in backward)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs, axes = ctx.needs_input_grad, ctx.axes
        x_hat, inv_std = _normalized(x, axes, ctx.eps)
        dx = None
        if needs[0]:
            g = grad if weight is None else grad * weight  # the gradient at x̂
            dx = _through_statistics(g, x_hat, inv_std, axes)
        # per example; the engine sums them over the examples (the parameters broadcast)
        dweight = grad * x_hat if needs[1] else None  # dy/dweight = x̂
        dbias = grad if needs[2] else None  # dy/dbias = 1
        return dx, dweight, dbias
