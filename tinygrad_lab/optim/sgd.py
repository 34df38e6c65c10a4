"""SGD, as ``torch.optim.SGD``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lab.optim.optimizer import Optimizer, ParamsT, check_flag, check_real


class SGD(Optimizer):
    """``p -= lr * g`` (plain gradient descent, as the notebook), with PyTorch's momentum
    (``v = μ v + (1 - dampening) g``, the first ``v = g``; ``p -= lr v``), Nesterov momentum
    (``p -= lr (g + μ v)``), weight decay (``g += wd · p``) and ``maximize`` (``g = -g``),
    each as ``torch.optim.SGD``. State: ``state[p]["momentum_buffer"]`` (with momentum)."""

    _state_keys = ("momentum_buffer",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening}
        defaults |= {"weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, where: str, options: dict[str, Any]) -> None:
        for key in ("lr", "momentum", "weight_decay"):
            check_real(where, key, options[key], lambda v: v >= 0, "a number >= 0")
        check_real(where, "dampening", options["dampening"], lambda v: 0 <= v <= 1, "in [0, 1]")
        check_flag(where, "nesterov", options["nesterov"])
        check_flag(where, "maximize", options["maximize"])
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                f"{where}: Nesterov momentum needs momentum > 0 and dampening 0, got momentum="
                f"{options['momentum']} and dampening={options['dampening']}"
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group, stepped in self._ready():
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            maximize = group["maximize"]
            for p, grad in stepped:
                if maximize:
                    grad = -grad
                if weight_decay:
                    grad = grad + weight_decay * p.data
                if momentum:
                    state = self.state[p]
                    v = state.get("momentum_buffer")
                    if v is None:  # the first velocity is g (a copy, in the parameter's dtype)
                        state["momentum_buffer"] = v = np.array(grad, dtype=p.dtype)
                    else:  # in place, as PyTorch's: v = μ v + (1 - dampening) g
                        v *= momentum
                        v += grad if not dampening else (1 - dampening) * grad
                    grad = grad + momentum * v if nesterov else v
                p.data -= lr * grad  # lr * g, exactly as the notebook computes it
        return loss
