"""Optimizers: they update ``param.data`` in place, reusing per-parameter buffers."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tinygrad_lab.tensor import Tensor


class Optimizer:
    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__}: every parameter must be a Tensor that "
                    f"requires grad, got {p!r:.60}"
                )
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: lr must be positive, got {lr}")
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """``p -= lr * g`` (plain gradient descent, as the notebook), with optional PyTorch-style
    momentum (``v = μ v + g; p -= lr v``) and weight decay (``g += wd · p``)."""

    def __init__(
        self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"SGD: momentum ({momentum}) and weight_decay ({weight_decay}) must be >= 0"
            )
        self.momentum, self.weight_decay = momentum, weight_decay
        self._buffers = [np.empty_like(p.data) for p in self.params]
        self._velocity = [None] * len(self.params) if momentum else None

    def step(self) -> None:
        for k, p in enumerate(self.params):
            grad = p.grad
            if grad is None:
                continue
            buffer = self._buffers[k]
            if self.weight_decay:
                np.multiply(p.data, self.weight_decay, out=buffer)
                buffer += grad
                grad = buffer
            if self._velocity is not None:
                v = self._velocity[k]
                if v is None:
                    v = self._velocity[k] = np.array(grad)
                else:
                    v *= self.momentum
                    v += grad
                grad = v
            np.multiply(grad, self.lr, out=buffer)  # lr * g, exactly as the notebook computes it
            p.data -= buffer


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
        self._m = [np.zeros_like(p.data) for p in self.params]
        self._v = [np.zeros_like(p.data) for p in self.params]
        self._buffers = [np.empty_like(p.data) for p in self.params]

    def step(self) -> None:
        b1, b2 = self.betas
        for k, (p, m, v, buffer) in enumerate(
            zip(self.params, self._m, self._v, self._buffers, strict=True)
        ):
            grad = p.grad
            if grad is None:
                continue  # a parameter without gradient keeps its moments and its step count
            self._steps[k] += 1
            t = self._steps[k]
            step_size = self.lr / (1 - b1**t)
            root_correction = np.sqrt(1 - b2**t)
            if self.weight_decay:
                grad = grad + self.weight_decay * p.data
            m *= b1
            np.multiply(grad, 1 - b1, out=buffer)
            m += buffer
            v *= b2
            np.multiply(grad, grad, out=buffer)
            buffer *= 1 - b2
            v += buffer
            np.sqrt(v, out=buffer)
            buffer /= root_correction
            buffer += self.eps
            np.divide(m, buffer, out=buffer)
            buffer *= step_size
            p.data -= buffer
