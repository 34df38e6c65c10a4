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
