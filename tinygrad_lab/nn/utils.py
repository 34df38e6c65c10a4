"""`nn.utils`: gradient clipping, as PyTorch's ``torch.nn.utils``. Each works on the ``.grad``
of the parameters given (those without one are skipped) and changes nothing else."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from tinygrad_lab.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(function: str, parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The tensors among ``parameters`` (one Tensor, or an iterable of them) that have a grad."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    elif not isinstance(parameters, Iterable):
        hint = " (call it: model.parameters())" if callable(parameters) else ""
        raise TypeError(
            f"{function}: parameters must be a Tensor or an iterable of them, got "
            f"{type(parameters).__name__}{hint}"
        )
    tensors = list(parameters)
    for k, p in enumerate(tensors):
        if not isinstance(p, Tensor):
            raise TypeError(f"{function}: parameter {k} is not a Tensor (got {type(p).__name__})")
    return [p for p in tensors if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale every gradient by ``min(1, max_norm / (total + 1e-6))``, where ``total`` is the
    ``norm_type``-norm of all the gradients together (as one vector; ``inf`` for the largest
    magnitude), and return ``total`` (a 0-d Tensor), as PyTorch does.

    A non-finite total is an error with ``error_if_nonfinite``; without it, the gradients are
    left as they are (PyTorch multiplies them by max_norm / total, which makes every one of
    them NaN or 0) and the total is returned for the caller to see."""
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}")
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (or inf), got {norm_type}")
    grads = _grads("clip_grad_norm_", parameters)
    if not grads:
        return Tensor(0.0)
    norms = [_norm(p.grad, norm_type) for p in grads]  # each parameter's, then theirs
    total = _norm(np.array(norms), norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise RuntimeError(
                f"clip_grad_norm_: the total {norm_type:g}-norm of the gradients is {total}; "
                "pass error_if_nonfinite=False to get it returned instead"
            )
        return Tensor(total)
    scale = min(1.0, max_norm / (total + 1e-6))
    for p in grads:
        p.grad = p.grad * np.asarray(scale, p.grad.dtype)
    return Tensor(total)


def _norm(array: np.ndarray, norm_type: float) -> float:
    """The ``norm_type``-norm of every entry of ``array`` as one vector."""
    flat = np.abs(array.ravel()).astype(np.float64)
    if norm_type == math.inf:
        return float(flat.max(initial=0.0))
    if norm_type == 2:
        return math.sqrt(float(flat.dot(flat)))
    return float(np.sum(flat**norm_type) ** (1 / norm_type))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], as PyTorch does."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    for p in _grads("clip_grad_value_", parameters):
        p.grad = np.clip(p.grad, -clip_value, clip_value)
