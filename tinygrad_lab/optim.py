"""Optimizers: SGD, RMSprop and Adam, with PyTorch's update rules and defaults. Each step
updates every parameter's values in place (``p.data -= ...``), which raises the parameter's
version, so a graph that saved the old values will not use them. A step is all or nothing: every
parameter's grad (and the optimizer's state for it) is checked before any value, buffer or step
count changes."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tinygrad_lab.tensor import Tensor


class Optimizer:
    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        positions: dict[int, int] = {}
        for k, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{name}: every parameter must be a Tensor that requires grad, got {p!r:.60}"
                )
            if id(p) in positions:  # it would be stepped twice per step
                raise ValueError(
                    f"{name}: parameter {k} (shape {p.shape}) is parameter {positions[id(p)]} "
                    "again; give each parameter once"
                )
            positions[id(p)] = k
        if not lr > 0:
            raise ValueError(f"{name}: lr must be positive, got {lr}")
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def _buffers(self, k: int) -> tuple[np.ndarray | None, ...]:
        """The arrays this optimizer keeps for parameter ``k``, each of the parameter's shape."""
        return ()

    def _with_grads(self) -> list[tuple[int, Tensor, np.ndarray]]:
        """``(k, p, p.grad)`` for every parameter that has a grad, all checked first: a bad one
        raises before anything is written, where a half-applied step would go unnoticed."""
        name, stepped = type(self).__name__, []
        for k, p in enumerate(self.params):
            grad, data = p.grad, p.data
            if grad is None:
                continue  # no gradient: the parameter and its state are left as they are
            if not (  # (the usual case, checked inline: this runs for every parameter)
                type(grad) is np.ndarray
                and grad.shape == data.shape
                and grad.dtype.kind == "f"
                and data.dtype.kind == "f"
                and data.flags.writeable
            ):
                _check_grad(name, k, p)  # raises, naming what is wrong
            for buffer in self._buffers(k):
                if buffer is not None and buffer.shape != p.shape:
                    raise ValueError(
                        f"{name}.step: parameter {k} now has shape {p.shape}, but its optimizer "
                        f"state has shape {buffer.shape} (its data was replaced by an array of "
                        "another shape); make a new optimizer. Nothing was updated"
                    )
            stepped.append((k, p, grad))
        return stepped


def _check_grad(name: str, k: int, p: Tensor) -> None:
    """Parameter ``k``'s grad is an ndarray of its exact shape and a float dtype, and its values
    can be written (a grad that only broadcasts to the parameter would update it wrongly)."""
    grad, where = p.grad, f"{name}.step: parameter {k} (shape {p.shape}, {p.dtype})"
    if not isinstance(grad, np.ndarray):
        raise TypeError(
            f"{where} has a grad of type {type(grad).__name__}; expected an ndarray of shape "
            f"{p.shape}. Nothing was updated"
        )
    if grad.dtype.kind != "f":
        raise TypeError(
            f"{where} has a grad of dtype {grad.dtype}; expected floats ({p.dtype}). "
            "Nothing was updated"
        )
    if grad.shape != p.shape:
        raise ValueError(
            f"{where} has a grad of shape {grad.shape}; expected exactly {p.shape}, the "
            "parameter's own (a grad is not broadcast). Nothing was updated"
        )
    if p.dtype.kind != "f" or not p.data.flags.writeable:
        raise ValueError(
            f"{where}: its values must be a writeable float array to be updated in place. "
            "Nothing was updated"
        )


class SGD(Optimizer):
    """``p -= lr * g`` (plain gradient descent, as the notebook), with PyTorch's momentum
    (``v = μ v + (1 - dampening) g``, the first ``v = g``; ``p -= lr v``), Nesterov momentum
    (``p -= lr (g + μ v)``) and weight decay (``g += wd · p``), each as ``torch.optim.SGD``."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        *,
        dampening: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) must be >= 0"
            )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum="
                f"{momentum} and dampening={dampening}"
            )
        self.momentum, self.weight_decay = momentum, weight_decay
        self.dampening, self.nesterov = dampening, bool(nesterov)
        self._velocity: list[np.ndarray | None] = [None] * len(self.params)

    def _buffers(self, k: int) -> tuple[np.ndarray | None, ...]:
        return (self._velocity[k],)

    def step(self) -> None:
        lr, momentum, weight_decay = self.lr, self.momentum, self.weight_decay
        for k, p, grad in self._with_grads():
            if weight_decay:
                grad = grad + weight_decay * p.data
            if momentum:
                v = self._velocity[k]
                if v is None:
                    v = grad.copy()
                else:
                    v = momentum * v + (grad if not self.dampening else (1 - self.dampening) * grad)
                self._velocity[k] = v
                grad = grad + momentum * v if self.nesterov else v
            p.data -= lr * grad  # lr * g, exactly as the notebook computes it


class RMSprop(Optimizer):
    """RMSprop (Hinton), as ``torch.optim.RMSprop``: each entry's step is divided by a running
    root mean square of its gradients, ``s = α s + (1 - α) g²; p -= lr g / (√s + eps)``;
    ``centered`` subtracts the square of the running mean gradient from ``s`` first, and
    ``momentum`` keeps a velocity of those steps, ``b = μ b + g / (√s + eps); p -= lr b``."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, lr)
        if not 0 <= alpha <= 1 or not eps > 0 or weight_decay < 0 or momentum < 0:
            raise ValueError(
                f"RMSprop: need 0 <= alpha <= 1, eps > 0, weight_decay >= 0 and momentum >= 0; "
                f"got alpha={alpha}, eps={eps}, weight_decay={weight_decay}, momentum={momentum}"
            )
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, bool(centered)
        self._square_avg = [np.zeros_like(p.data) for p in self.params]
        self._grad_avg = [np.zeros_like(p.data) for p in self.params] if centered else None
        self._buffer = [np.zeros_like(p.data) for p in self.params] if momentum else None

    def _buffers(self, k: int) -> tuple[np.ndarray | None, ...]:
        averages = (self._square_avg, self._grad_avg, self._buffer)
        return tuple(None if arrays is None else arrays[k] for arrays in averages)

    def step(self) -> None:
        alpha = self.alpha
        for k, p, grad in self._with_grads():  # one without gradient keeps its averages
            if self.weight_decay:
                grad = grad + self.weight_decay * p.data
            self._square_avg[k] = alpha * self._square_avg[k] + (1 - alpha) * (grad * grad)
            mean_square = self._square_avg[k]
            if self._grad_avg is not None:  # centered: the variance of g, not its mean square
                self._grad_avg[k] = alpha * self._grad_avg[k] + (1 - alpha) * grad
                mean_square = mean_square - self._grad_avg[k] * self._grad_avg[k]
            scaled = grad / (np.sqrt(mean_square) + self.eps)
            if self._buffer is not None:
                self._buffer[k] = self.momentum * self._buffer[k] + scaled
                scaled = self._buffer[k]
            p.data -= self.lr * scaled


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as ``torch.optim.Adam``."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1) or eps <= 0 or weight_decay < 0:
            raise ValueError(
                f"Adam: need 0 <= betas < 1, eps > 0, weight_decay >= 0; got "
                f"betas={betas}, eps={eps}, weight_decay={weight_decay}"
            )
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        self._steps = [0] * len(self.params)  # per parameter, as PyTorch's state["step"]
        self._m = [np.zeros_like(p.data) for p in self.params]  # first moment
        self._v = [np.zeros_like(p.data) for p in self.params]  # second moment

    def _buffers(self, k: int) -> tuple[np.ndarray | None, ...]:
        return self._m[k], self._v[k]

    def step(self) -> None:
        b1, b2 = self.betas
        for k, p, grad in self._with_grads():  # one without gradient keeps its moments and count
            self._steps[k] += 1
            t = self._steps[k]
            if self.weight_decay:
                grad = grad + self.weight_decay * p.data
            self._m[k] = b1 * self._m[k] + (1 - b1) * grad
            self._v[k] = b2 * self._v[k] + (grad * grad) * (1 - b2)
            denominator = np.sqrt(self._v[k]) / np.sqrt(1 - b2**t) + self.eps
            p.data -= (self.lr / (1 - b1**t)) * (self._m[k] / denominator)
