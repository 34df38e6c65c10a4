"""Fused losses: one node each, so the loss costs one step of backward, not five."""

from __future__ import annotations

import numpy as np

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
        ctx.save_for_backward(error)
        ctx.batched = batched
        if batched:  # each problem's errors added as one flat array's are
            square = (error**2).reshape(len(error), -1)
            return np.add.reduce(square, axis=1) / square.shape[1]
        return np.add.reduce(error**2, axis=None) / error.size  # np.mean's own two steps

    @staticmethod
    def backward(ctx, grad):
        (error,) = ctx.saved_tensors
        # 2·error/N, as the notebook writes it (its bits, when grad is the implied 1)
        if ctx.batched:  # grad (S,): problem s's 2·grad[s]·error/N
            d = (2 * grad).reshape((-1,) + (1,) * (error.ndim - 1)) * error
            d /= error[0].size
        else:
            d = (2 * grad) * error / error.size
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
        ctx.save_for_backward(log_probs, labels)
        return -log_probs[rows, labels].mean()

    @staticmethod
    def backward(ctx, grad):
        log_probs, labels = ctx.saved_tensors
        d = np.exp(log_probs)  # softmax
        d[np.arange(len(labels)), labels] -= 1  # d(-log p_t)/dz = softmax - onehot(t)
        return d * (grad / len(labels)), None


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


def _spread(grad: np.ndarray, reduction: str, total: float) -> np.ndarray:
    """The gradient at each loss, from the gradient at the reduced one (it broadcasts)."""
    return grad / total if reduction == "mean" else grad


def _difference(op: str, input: np.ndarray, target: np.ndarray) -> np.ndarray:  # noqa: A002
    """``input - target``; their shapes must match (a (N,) input against a (N, 1) target would
    broadcast to (N, N) otherwise, silently: PyTorch warns, we refuse)."""
    if input.shape != target.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} differ")
    return input - target


class L1(Function):
    """|input - target|, reduced. Its slope is sign(input - target), 0 where they are equal
    (PyTorch's choice at the kink)."""

    @staticmethod
    def forward(ctx, input, target, reduction="mean"):  # noqa: A002
        diff = _difference("L1", input, target)
        _check_reduction("L1", reduction, diff.size)
        ctx.reduction, ctx.total = reduction, diff.size
        ctx.save_for_backward(np.sign(diff))
        return _reduce(np.abs(diff), reduction, diff.size)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        d = _spread(grad, ctx.reduction, ctx.total) * slope  # d|x - y|/dx = sign(x - y)
        return d, (-d if ctx.needs_input_grad[1] else None)


class Huber(Function):
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta), of d = input - target, reduced:
    quadratic near the target, linear (slope ±delta) beyond delta."""

    @staticmethod
    def forward(ctx, input, target, reduction="mean", delta=1.0):  # noqa: A002
        if not delta > 0:
            raise ValueError(f"Huber: delta must be positive, got {delta!r}")
        diff = _difference("Huber", input, target)
        _check_reduction("Huber", reduction, diff.size)
        size = np.abs(diff)
        small = size < delta
        losses = np.where(small, 0.5 * diff * diff, delta * (size - 0.5 * delta))
        ctx.reduction, ctx.total = reduction, diff.size
        ctx.save_for_backward(np.where(small, diff, delta * np.sign(diff)))  # the slope
        return _reduce(losses, reduction, diff.size)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        d = _spread(grad, ctx.reduction, ctx.total) * slope  # d, or ±delta beyond delta
        return d, (-d if ctx.needs_input_grad[1] else None)


class SmoothL1(Function):
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta, of d = input - target, reduced: the
    Huber loss divided by beta (slope ±1 beyond beta); beta = 0 is the L1 loss."""

    @staticmethod
    def forward(ctx, input, target, reduction="mean", beta=1.0):  # noqa: A002
        if not beta >= 0:
            raise ValueError(f"SmoothL1: beta must be >= 0, got {beta!r}")
        diff = _difference("SmoothL1", input, target)
        _check_reduction("SmoothL1", reduction, diff.size)
        size = np.abs(diff)
        if beta == 0:  # (no quadratic part: the L1 loss, without dividing by 0)
            losses, slope = size, np.sign(diff)
        else:
            small = size < beta
            losses = np.where(small, 0.5 * diff * diff / beta, size - 0.5 * beta)
            slope = np.where(small, diff / beta, np.sign(diff))
        ctx.reduction, ctx.total = reduction, diff.size
        ctx.save_for_backward(slope)
        return _reduce(losses, reduction, diff.size)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        d = _spread(grad, ctx.reduction, ctx.total) * slope  # d/beta, or ±1 beyond beta
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
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
            log_p = np.maximum(np.log(input), -100)
            log_q = np.maximum(np.log1p(-input), -100)
        losses = -(target * log_p + (1 - target) * log_q)
        if weight is not None:
            losses = losses * weight
        ctx.reduction, ctx.total = reduction, input.size
        ctx.save_for_backward(input, target, log_p, log_q, weight)
        return _reduce(losses, reduction, input.size)

    @staticmethod
    def backward(ctx, grad):
        x, y, log_p, log_q, weight = ctx.saved_tensors
        g = _spread(grad, ctx.reduction, ctx.total)
        if weight is not None:
            g = g * weight
        # dl/dx = (x - y) / (x(1 - x)), its denominator kept >= 1e-12 as PyTorch's backward
        # keeps it (so the gradient stays finite at 0 and 1); dl/dy = log(1 - x) - log(x)
        dx = g * (x - y) / np.maximum(x * (1 - x), 1e-12)
        dy = g * (log_q - log_p) if ctx.needs_input_grad[1] else None
        return dx, dy


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
        softplus_neg = np.maximum(-input, 0) + np.log1p(np.exp(-np.abs(input)))  # log(1 + e^-x)
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        losses = (1 - target) * input + log_weight * softplus_neg
        if weight is not None:
            losses = losses * weight
        ctx.reduction, ctx.total = reduction, input.size
        ctx.save_for_backward(input, target, softplus_neg, weight, pos_weight)
        return _reduce(losses, reduction, input.size)

    @staticmethod
    def backward(ctx, grad):
        x, y, softplus_neg, weight, pos_weight = ctx.saved_tensors
        g = _spread(grad, ctx.reduction, ctx.total)
        if weight is not None:
            g = g * weight
        p = 1 if pos_weight is None else pos_weight
        sigmoid_neg = np.exp(-x - softplus_neg)  # sigmoid(-x) = e^-softplus(x), never overflows
        # dl/dx = (1 - y) - (1 + (p - 1)y)·sigmoid(-x); dl/dy = (p - 1)·softplus(-x) - x
        dx = g * ((1 - y) - (1 + (p - 1) * y) * sigmoid_neg)
        dy = g * ((p - 1) * softplus_neg - x) if ctx.needs_input_grad[1] else None
        return dx, dy


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
        ctx.reduction, ctx.total, ctx.shape = reduction, total, input.shape
        ctx.save_for_backward(labels, weights.astype(input.dtype, copy=False))
        return _reduce(-weights * picked, reduction, total).astype(input.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        labels, weights = ctx.saved_tensors
        shape = ctx.shape
        moved = shape[:1] + shape[2:] + shape[1:2] if len(shape) >= 2 else shape
        d = np.zeros(moved, dtype=weights.dtype)
        # dl/dinput[.., t] = -weight[t]; 0 for every other class
        picked = -weights * _spread(grad, ctx.reduction, ctx.total)
        np.put_along_axis(d, labels[..., None], picked[..., None], axis=-1)
        return (np.moveaxis(d, -1, 1) if len(shape) >= 2 else d), None
