"""RMSprop, as ``torch.optim.RMSprop``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lab.optim.optimizer import Optimizer, ParamsT, check_flag, check_real


class RMSprop(Optimizer):
    """RMSprop (Hinton), as ``torch.optim.RMSprop``: each entry's step is divided by a running
    root mean square of its gradients, ``s = α s + (1 - α) g²; p -= lr g / (√s + eps)``;
    ``centered`` subtracts the square of the running mean gradient from ``s`` first, and
    ``momentum`` keeps a velocity of those steps, ``b = μ b + g / (√s + eps); p -= lr b``.
    State: ``step``, ``square_avg``, ``grad_avg`` (centered), ``momentum_buffer`` (momentum)."""

    _state_keys = ("step", "square_avg", "grad_avg", "momentum_buffer")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay}
        defaults |= {"momentum": momentum, "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, where: str, options: dict[str, Any]) -> None:
        for key in ("lr", "weight_decay", "momentum"):
            check_real(where, key, options[key], lambda v: v >= 0, "a number >= 0")
        check_real(where, "alpha", options["alpha"], lambda v: 0 <= v <= 1, "in [0, 1]")
        check_real(where, "eps", options["eps"], lambda v: v > 0, "a number > 0")
        check_flag(where, "centered", options["centered"])
        check_flag(where, "maximize", options["maximize"])

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group, stepped in self._ready():  # one without gradient keeps its averages
            lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
            weight_decay, centered, maximize = (
                group[k] for k in ("weight_decay", "centered", "maximize")
            )
            for p, grad in stepped:
                state = self.state[p]
                if not state:
                    state.update(step=0, square_avg=np.zeros_like(p.data))
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = np.zeros_like(p.data)
                if momentum and "momentum_buffer" not in state:
                    state["momentum_buffer"] = np.zeros_like(p.data)
                if maximize:
                    grad = -grad
                if weight_decay:
                    grad = grad + weight_decay * p.data
                state["step"] += 1
                square_avg = state["square_avg"]  # the averages change in place, as PyTorch's
                square_avg *= alpha
                square_avg += (1 - alpha) * (grad * grad)
                mean_square = square_avg
                if centered:  # the variance of g, not its mean square
                    grad_avg = state["grad_avg"]
                    grad_avg *= alpha
                    grad_avg += (1 - alpha) * grad
                    mean_square = square_avg - grad_avg * grad_avg
                scaled = grad / (np.sqrt(mean_square) + eps)
                if momentum:
                    scaled = state["momentum_buffer"]
                    scaled *= momentum
                    scaled += grad / (np.sqrt(mean_square) + eps)
                p.data -= lr * scaled
        return loss
