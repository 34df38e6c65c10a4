"""Fused losses: one node each, so the loss costs one step of backward, not five."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lab.differentiable import call
from tinygrad_lab.ops.reduce import Softmax
from tinygrad_lab.tensor import Function

__all__ = ["MSE", "CrossEntropy"]


class MSE(Function):
    """mean((prediction - target)²) over every element. Shapes must match exactly: a (N,)
    prediction against a (N, 1) target would silently broadcast to (N, N) otherwise. With
    ``batched=True`` the first axis stacks S separate problems (the lab's seed axis): the loss
    is their S means, each that of its own problem alone, to the bit."""

    @staticmethod
    def forward(ctx, prediction, target, batched=False):
        if prediction.shape != target.shape:
            raise ValueError(
                f"MSE: prediction shape {prediction.shape} and target shape {target.shape} differ"
            )
        if prediction.size == 0:
            raise ValueError("MSE: empty prediction: the mean of no errors is undefined")
        if batched and prediction.ndim == 0:
            raise ValueError("MSE: batched=True needs a leading axis of problems; got a scalar")
        error = prediction - target
        ctx.save_for_backward(prediction, target)  # (the error is computed again in backward)
        ctx.batched = batched
        if batched:  # each problem's errors added as one flat array's are
            square = (error**2).reshape(len(error), -1)
            ctx.count = square.shape[1]
            return np.add.reduce(square, axis=1) / ctx.count
        ctx.count = error.size
        # np.mean's own two steps, as a 0-d array (a NumPy scalar would be converted later)
        return np.asarray(np.add.reduce(error**2, axis=None) / ctx.count)

    @staticmethod
    def backward(ctx, grad):
        prediction, target = ctx.saved_tensors
        error = prediction - target
        # 2·error/N, as the notebook writes it (its bits, when grad is the implied 1)
        if ctx.batched:  # grad (S,): problem s's 2·grad[s]·error/N
            d = (2 * grad).reshape((-1,) + (1,) * (error.ndim - 1)) * error / ctx.count
        else:
            d = (2 * grad) * error / ctx.count
        return d, (-d if ctx.needs_input_grad[1] else None)


class CrossEntropy(Function):
    """Mean of -log softmax(logits)[target] over the batch, from logits (N, C) and class
    indices (N,); computed through log-sum-exp, so it is stable for large logits."""

    @staticmethod
    def forward(ctx, logits, target):
        if logits.ndim != 2 or target.shape != (logits.shape[0],):
            raise ValueError(
                f"CrossEntropy: logits must be (N, C) and target (N,); got "
                f"{logits.shape} and {target.shape}"
            )
        if len(target) == 0:
            raise ValueError("CrossEntropy: empty batch: the mean of no losses is undefined")
        classes = logits.shape[1]
        valid = np.isfinite(target) & (target == np.round(target)) & (target >= 0)
        valid &= target < classes
        if not valid.all():
            k = int(np.flatnonzero(~valid)[0])
            raise ValueError(
                f"CrossEntropy: target {target[k]:g} at position {k} is not a class index "
                f"in 0..{classes - 1}"
            )
        labels = target.astype(np.int64)
        z = logits - logits.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        rows = np.arange(len(labels))
        ctx.save_for_backward(logits, labels)
        return -log_probs[rows, labels].mean()

    @staticmethod
    def backward(ctx, grad):
        logits, labels = ctx.saved_tensors
        onehot = labels[:, None] == np.arange(logits.shape[1])  # a mask: a constant
        # d(-log p_t)/dz = softmax - onehot(t); softmax an op, so that it is differentiated again
        return (call(Softmax, logits, axis=1) - onehot) * (grad / len(labels)), None


# ------------------------------------------------------------------------- PyTorch's losses
# Each takes ``reduction`` as PyTorch does: "mean" (of the losses, or weighted), "sum" or "none"
# (each loss). The reduction is inside the op, so the loss is one node whatever it is.
REDUCTIONS = ("mean", "sum", "none")
__all__ += ["L1", "Huber", "SmoothL1", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits"]
__all__ += ["NLL", "REDUCTIONS", "check_class_targets"]


def _check_reduction(op: str, reduction: str, losses: int) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if reduction == "mean" and losses == 0:
        raise ValueError(f"{op}: empty input: the mean of no losses is undefined")


def _reduce(losses: np.ndarray, reduction: str, total: float) -> np.ndarray:
    """The losses' sum, divided by ``total`` for "mean" (their count, or their weights' sum),
    or the losses themselves for "none"."""
    if reduction == "none":
        return losses
    summed = np.add.reduce(losses, axis=None)
    return summed / total if reduction == "mean" else summed


def _spread(grad: np.ndarray, reduction: str, total: float, weight: Any = None) -> np.ndarray:
    """The gradient at each loss, from the gradient at the reduced one (it broadcasts), times
    each loss's ``weight`` when there is one."""
    g = grad / total if reduction == "mean" else grad
    return g if weight is None else g * weight


def _difference(op: str, input: np.ndarray, target: np.ndarray) -> np.ndarray:  # noqa: A002
    """``input - target``; their shapes must match (a (N,) input against a (N, 1) target would
    broadcast to (N, N) otherwise, silently: PyTorch warns, we refuse)."""
    if input.shape != target.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} differ")
    return input - target


class L1(Function):
    """|input - target|, reduced. Its slope is sign(input - target), 0 where they are equal
    (PyTorch's choice at the kink); its second derivative is 0, as PyTorch's (sign's slope)."""

    @staticmethod
    def forward(ctx, input, target, reduction="mean"):  # noqa: A002
        diff = _difference("L1", input, target)
        _check_reduction("L1", reduction, diff.size)
        ctx.reduction, ctx.total = reduction, diff.size
        ctx.save_for_backward(input, target)
        return _reduce(np.abs(diff), reduction, diff.size)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        slope = np.sign(x - y)  # d|x - y|/dx = sign(x - y)
        d = _spread(grad, ctx.reduction, ctx.total) * slope
        return d, (-d if ctx.needs_input_grad[1] else None)


class Huber(Function):
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta), of d = input - target, reduced:
    quadratic near the target, linear (slope ±delta) beyond delta. Its second derivative is 1
    where |d| <= delta (at ±delta, `Clip`'s derivative at its edges), 0 beyond."""

    @staticmethod
    def forward(ctx, input, target, reduction="mean", delta=1.0):  # noqa: A002
        if not delta > 0:
            raise ValueError(f"Huber: delta must be positive, got {delta!r}")
        diff = _difference("Huber", input, target)
        _check_reduction("Huber", reduction, diff.size)
        size = np.abs(diff)
        small = size < delta
        losses = np.where(small, 0.5 * diff * diff, delta * (size - 0.5 * delta))
        ctx.reduction, ctx.total, ctx.delta = reduction, diff.size, delta
        ctx.save_for_backward(input, target)
        return _reduce(losses, reduction, diff.size)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        slope = np.clip(x - y, -ctx.delta, ctx.delta)  # d, or ±delta beyond delta
        d = _spread(grad, ctx.reduction, ctx.total) * slope
        return d, (-d if ctx.needs_input_grad[1] else None)


class SmoothL1(Function):
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta, of d = input - target, reduced: the
    Huber loss divided by beta (slope ±1 beyond beta); beta = 0 is the L1 loss. Its second
    derivative is 1/beta where |d| <= beta (`Clip`'s derivative at its edges), 0 beyond."""

    @staticmethod
    def forward(ctx, input, target, reduction="mean", beta=1.0):  # noqa: A002
        if not beta >= 0:
            raise ValueError(f"SmoothL1: beta must be >= 0, got {beta!r}")
        diff = _difference("SmoothL1", input, target)
        _check_reduction("SmoothL1", reduction, diff.size)
        size = np.abs(diff)
        if beta == 0:  # (no quadratic part: the L1 loss, without dividing by 0)
            losses = size
        else:
            losses = np.where(size < beta, 0.5 * diff * diff / beta, size - 0.5 * beta)
        ctx.reduction, ctx.total, ctx.beta = reduction, diff.size, beta
        ctx.save_for_backward(input, target)
        return _reduce(losses, reduction, diff.size)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        diff = x - y  # the slope: d/beta, or ±1 beyond beta (the sign, for beta = 0)
        slope = np.sign(diff) if ctx.beta == 0 else np.clip(diff / ctx.beta, -1, 1)
        d = _spread(grad, ctx.reduction, ctx.total) * slope
        return d, (-d if ctx.needs_input_grad[1] else None)


def _weight(op: str, name: str, weight: np.ndarray | None, like: np.ndarray) -> np.ndarray | None:
    """A rescaling weight (an array, never differentiated) that broadcasts to the shape of
    ``like``, in its dtype (a float32 loss stays float32)."""
    if weight is None:
        return None
    weight, shape = np.asarray(weight, dtype=like.dtype), like.shape
    try:
        fits = np.broadcast_shapes(weight.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {weight.shape} does not broadcast to {shape}")
    return weight


class BinaryCrossEntropy(Function):
    """-weight·(target·log(input) + (1 - target)·log(1 - input)), reduced, of probabilities
    ``input`` in [0, 1]; each log is clamped at -100, as PyTorch does, so a probability of
    exactly 0 or 1 gives a loss of at most 100, not infinity. ``weight`` (an array) broadcasts
    to the input's shape and is never differentiated."""

    @staticmethod
    def forward(ctx, input, target, weight=None, reduction="mean"):  # noqa: A002
        if input.shape != target.shape:
            raise ValueError(
                f"BinaryCrossEntropy: input shape {input.shape} and target shape "
                f"{target.shape} differ"
            )
        if input.size and not (input.min() >= 0 and input.max() <= 1):  # (NaN fails too)
            raise ValueError(
                "BinaryCrossEntropy: input must be probabilities in [0, 1] (for logits use "
                "binary_cross_entropy_with_logits / BCEWithLogitsLoss), got values in "
                f"[{np.min(input):g}, {np.max(input):g}]"
            )
        weight = _weight("BinaryCrossEntropy", "weight", weight, input)
        _check_reduction("BinaryCrossEntropy", reduction, input.size)
        log_p, log_q = _clamped_logs(input)
        losses = -(target * log_p + (1 - target) * log_q)
        if weight is not None:
            losses = losses * weight
        ctx.reduction, ctx.total, ctx.weight = reduction, input.size, weight  # (a constant)
        ctx.save_for_backward(input, target)
        return _reduce(losses, reduction, input.size)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = _spread(grad, ctx.reduction, ctx.total, ctx.weight)
        # dl/dx = (x - y) / (x(1 - x)), its denominator kept >= 1e-12 as PyTorch's backward
        # keeps it (so the gradient stays finite at 0 and 1); dl/dy = log(1 - x) - log(x)
        dx = g * (x - y) / np.maximum(x * (1 - x), 1e-12)
        dy = None
        if ctx.needs_input_grad[1]:
            log_p, log_q = _clamped_logs(x)
            dy = g * (log_q - log_p)
        return dx, dy


def _clamped_logs(p):
    """log(p) and log(1 - p), each at least -100 (PyTorch's clamp: -100, not -inf, at 0 and
    1). Each log is taken of a stand-in (1, or 0 for log1p) where it would be -inf, so that it
    is never -inf on arrays nor an error on Tensors; `np.where` then puts -100 there."""
    inside_p, inside_q = p > 0, p < 1
    log_p = np.where(inside_p, np.maximum(np.log(np.where(inside_p, p, 1)), -100), -100)
    log_q = np.where(inside_q, np.maximum(np.log1p(-np.where(inside_q, p, 0)), -100), -100)
    return log_p, log_q


class BinaryCrossEntropyWithLogits(Function):
    """The binary cross-entropy of sigmoid(input), from the logits, in PyTorch's stable form
    ``weight·((1 - y)·x + (1 + (pos_weight - 1)·y)·softplus(-x))`` (softplus never
    overflows), reduced. ``pos_weight`` weighs the positive term (one value per class: it
    broadcasts along the last axis); like ``weight``, an array never differentiated."""

    @staticmethod
    def forward(ctx, input, target, weight=None, pos_weight=None, reduction="mean"):  # noqa: A002
        op = "BinaryCrossEntropyWithLogits"
        if input.shape != target.shape:
            raise ValueError(
                f"{op}: input shape {input.shape} and target shape {target.shape} differ"
            )
        weight = _weight(op, "weight", weight, input)
        pos_weight = _weight(op, "pos_weight", pos_weight, input)
        _check_reduction(op, reduction, input.size)
        softplus_neg = _softplus_neg(input)
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        losses = (1 - target) * input + log_weight * softplus_neg
        if weight is not None:
            losses = losses * weight
        ctx.reduction, ctx.total = reduction, input.size
        ctx.weight, ctx.pos_weight = weight, pos_weight  # (constants)
        ctx.save_for_backward(input, target)
        return _reduce(losses, reduction, input.size)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = _spread(grad, ctx.reduction, ctx.total, ctx.weight)
        p = 1 if ctx.pos_weight is None else ctx.pos_weight
        softplus_neg = _softplus_neg(x)
        sigmoid_neg = np.exp(-x - softplus_neg)  # sigmoid(-x) = e^-softplus(x), never overflows
        # dl/dx = (1 - y) - (1 + (p - 1)y)·sigmoid(-x); dl/dy = (p - 1)·softplus(-x) - x
        dx = g * ((1 - y) - (1 + (p - 1) * y) * sigmoid_neg)
        dy = g * ((p - 1) * softplus_neg - x) if ctx.needs_input_grad[1] else None
        return dx, dy


def _softplus_neg(x):
    """softplus(-x) = log(1 + e^-x), in a form that never overflows."""
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


def check_class_targets(
    function: str, input_shape: tuple, target: np.ndarray, ignore_index: int
) -> None:
    """Shapes as PyTorch's class losses take them (input (N, C) and target (N,); (N, C, d1, ...)
    and (N, d1, ...); or (C,) and ()), and every target a class index in 0..C-1 or
    ``ignore_index``; else a ValueError naming ``function``."""
    expected = input_shape[:1] + input_shape[2:] if len(input_shape) >= 2 else ()
    if not input_shape or target.shape != expected:
        raise ValueError(
            f"{function}: input must be (N, C) and target (N,) (or input (N, C, d1, ...) and "
            f"target (N, d1, ...), or input (C,) and target ()); got {input_shape} and "
            f"{target.shape}"
        )
    classes = input_shape[1] if len(input_shape) >= 2 else input_shape[0]
    valid = np.isfinite(target) & (target == np.round(target)) & (target >= 0)
    valid &= target < classes
    valid |= target == ignore_index
    if not valid.all():
        k = tuple(int(i) for i in np.argwhere(~valid)[0])
        where = "" if not k else f"at position {k[0] if len(k) == 1 else k} "
        raise ValueError(
            f"{function}: target {target[k]:g} {where}is not a class index in "
            f"0..{classes - 1} (nor ignore_index={ignore_index})"
        )


class NLL(Function):
    """The negative log-likelihood of class indices: -weight[t]·input[n, t] for each target t,
    from log-probabilities ``input`` (N, C), (N, C, d1, ...) or (C,). Targets equal to
    ``ignore_index`` count for nothing; "mean" divides by the sum of the weights of the
    targets counted (their number, without ``weight``), as PyTorch does. ``weight`` (an
    array of C) is never differentiated."""

    @staticmethod
    def forward(ctx, input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
        check_class_targets("NLL", input.shape, target, ignore_index)
        classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if weight is not None and np.shape(weight) != (classes,):
            raise ValueError(
                f"NLL: weight must be ({classes},), one per class; got {np.shape(weight)}"
            )
        _check_reduction("NLL", reduction, target.size)
        log_probs = np.moveaxis(input, 1, -1) if input.ndim >= 2 else input  # classes last
        counted = target != ignore_index
        labels = np.where(counted, target, 0).astype(np.intp)
        picked = np.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
        weights = counted * (1.0 if weight is None else np.asarray(weight)[labels])
        total = weights.sum()
        if reduction == "mean" and not total > 0:
            raise ValueError(
                "NLL: no target counts (each is ignore_index, or of a class of weight 0): the "
                "mean of no losses is undefined"
            )
        ctx.reduction, ctx.total = reduction, total
        ctx.weights = weights.astype(input.dtype, copy=False)  # (a constant)
        # which class each loss picked, as a mask of the input's shape (classes on axis 1)
        classes_axis = np.arange(classes).reshape((classes,) + (1,) * (input.ndim - 2))
        ctx.save_for_backward(np.expand_dims(labels, min(1, labels.ndim)) == classes_axis)
        return _reduce(-weights * picked, reduction, total).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (chosen,) = ctx.saved_tensors
        # dl/dinput[.., t] = -weight[t]; 0 for every other class
        picked = -ctx.weights * _spread(grad, ctx.reduction, ctx.total)
        return chosen * picked.reshape(picked.shape[:1] + (1,) + picked.shape[1:]), None
