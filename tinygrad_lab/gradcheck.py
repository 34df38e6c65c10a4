"""`gradcheck`: compare backward with central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_lab.grad_mode import enable_grad, no_grad
from tinygrad_lab.tensor import Tensor


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names where and by how much."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s gradients with respect to every input Tensor that requires grad.

    ``fn(*inputs)`` may return any shape: the check differentiates ``sum(v * fn(*inputs))`` for a
    fixed random ``v`` (drawn from ``seed``), which tests every output's gradient at once.
    Each entry's analytic gradient must satisfy ``|analytic - numeric| <= atol + rtol·|numeric|``,
    with ``numeric = (L(x + eps) - L(x - eps)) / 2eps``. Use float64 inputs: float32 cannot
    resolve the differences. Returns True, or raises `GradcheckError` naming the worst entry.
    """
    checked = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True")
    for i, t in checked:
        if t.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {t.dtype}; finite differences need float64")
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    analytic = _analytic(out, weights, [t for _, t in checked])

    def loss() -> float:
        with no_grad():
            return float(np.sum(weights * fn(*inputs).data))

    worst = None  # (excess over tolerance, input position, index, analytic, numeric)
    for (position, t), grad in zip(checked, analytic, strict=True):
        for index in np.ndindex(t.shape):
            numeric = _central_difference(loss, t, index, eps)
            excess = abs(grad[index] - numeric) - (atol + rtol * abs(numeric))
            if not np.isfinite(grad[index]):
                excess = np.inf
            if worst is None or excess > worst[0]:
                worst = (excess, position, index, grad[index], numeric)
    if worst is not None and worst[0] > 0:
        _, position, index, value, numeric = worst
        raise GradcheckError(
            f"gradcheck: input {position}, entry {index}: analytic gradient {float(value)!r} but "
            f"numeric {float(numeric)!r} (difference {abs(value - numeric):.3g}, "
            f"allowed atol={atol} + rtol={rtol}·|numeric|)"
        )
    return True


def _analytic(out: Tensor, weights: np.ndarray, tensors: list[Tensor]) -> list[np.ndarray]:
    """Backward's gradient of ``sum(weights * out)`` for each tensor; ``.grad`` is restored."""
    previous = [t.grad for t in tensors]
    for t in tensors:
        t.grad = None
    try:
        if out.requires_grad:
            out.backward(weights)
        return [np.zeros(t.shape) if t.grad is None else np.array(t.grad) for t in tensors]
    finally:
        for t, grad in zip(tensors, previous, strict=True):
            t.grad = grad


def _central_difference(loss: Callable[[], float], t: Tensor, index: tuple, eps: float) -> float:
    """``(L(x + eps) - L(x - eps)) / 2eps`` at one entry; the entry is put back afterwards.
    (A raw write into the array, on purpose: it must not count as a change of the tensor.)"""
    original = t.data[index]
    t.data[index] = original + eps
    up = loss()
    t.data[index] = original - eps
    down = loss()
    t.data[index] = original
    return (up - down) / (2 * eps)


def gradgradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s second derivatives, as PyTorch's ``gradgradcheck``: `gradcheck` of the
    function ``(inputs, v) ↦ vᵀ ∂fn/∂inputs`` (a backward with ``create_graph=True``, for a
    random ``v`` drawn from ``seed``; that gradcheck's weights from ``seed + 1``), whose own
    backward is the backward of ``fn``'s backward.
    Returns True, or raises `GradcheckError` naming ``fn``'s ops and the worst entry."""
    from tinygrad_lab import autograd
    from tinygrad_lab.ops.movement import concatenate

    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        raise ValueError("gradgradcheck: no input is a Tensor with requires_grad=True")
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradgradcheck: fn must return a Tensor, got {type(out).__name__}")
    if not out.requires_grad:
        raise ValueError(
            "gradgradcheck: fn's result does not depend on an input that requires grad"
        )
    rng = np.random.default_rng(seed)
    v = Tensor(rng.standard_normal(out.shape), requires_grad=True)

    def first_derivatives(*args: Any) -> Tensor:
        *xs, cotangent = args
        wrt = [xs[i] for i in positions]
        with enable_grad():  # (gradcheck evaluates it in no_grad too: a backward needs a graph)
            grads = autograd.grad(fn(*xs), wrt, cotangent, create_graph=True, allow_unused=True)
            return concatenate([g.reshape(-1) for g in grads if g is not None])

    try:
        return gradcheck(first_derivatives, [*inputs, v], eps, atol, rtol, seed + 1)
    except GradcheckError as err:
        raise GradcheckError(
            f"gradgradcheck of {_ops(out)}: {str(err).removeprefix('gradcheck: ')} (input "
            f"{len(inputs)} is the cotangent v)"
        ) from None


def _ops(out: Tensor) -> str:
    """The ops that made ``out``, by name, each once: ``Mul, Sum``."""
    names, seen, stack = [], set(), [out]
    while stack:
        t = stack.pop()
        if t._ctx is None or id(t) in seen:
            continue
        seen.add(id(t))
        names.append(t._ctx.name)
        stack.extend(t._ctx.parents)
    return ", ".join(dict.fromkeys(reversed(names))) or "a function without ops"
