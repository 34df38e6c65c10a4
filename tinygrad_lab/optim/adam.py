"""Adam and AdamW, as ``torch.optim.Adam`` and ``torch.optim.AdamW``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lab.optim.optimizer import Optimizer, ParamsT, _kind, check_flag, check_real


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as ``torch.optim.Adam``:
    ``m = β₁ m + (1 - β₁) g``, ``v = β₂ v + (1 - β₂) g²`` and, at the parameter's step ``t``,
    ``p -= lr m̂ / (√v̂ + eps)`` with ``m̂ = m / (1 - β₁ᵗ)``, ``v̂ = v / (1 - β₂ᵗ)``.
    ``weight_decay`` adds ``wd · p`` to the gradient (L2), or with ``decoupled_weight_decay``
    (AdamW) shrinks the weights themselves first, ``p *= 1 - lr · wd``; ``amsgrad`` divides by
    the largest ``v`` so far. State: ``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``."""

    _state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        defaults |= {"amsgrad": amsgrad, "maximize": maximize}
        defaults["decoupled_weight_decay"] = decoupled_weight_decay
        super().__init__(params, defaults)

    def _check_options(self, where: str, options: dict[str, Any]) -> None:
        check_real(where, "lr", options["lr"], lambda v: v >= 0, "a number >= 0")
        betas = options["betas"]
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"{where}: betas must be a pair (beta1, beta2), got {_kind(betas)}")
        for i, beta in enumerate(betas):
            check_real(where, f"betas[{i}]", beta, lambda v: 0 <= v < 1, "in [0, 1)")
        check_real(where, "eps", options["eps"], lambda v: v > 0, "a number > 0")
        check_real(
            where, "weight_decay", options["weight_decay"], lambda v: v >= 0, "a number >= 0"
        )
        for key in ("amsgrad", "maximize", "decoupled_weight_decay"):
            check_flag(where, key, options[key])

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group, stepped in self._ready():  # one without gradient keeps its moments and count
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
            maximize, amsgrad = group["maximize"], group["amsgrad"]
            for p, grad in stepped:
                state, data = self.state[p], p.data
                if not state:
                    state.update(
                        step=0, exp_avg=np.zeros_like(data), exp_avg_sq=np.zeros_like(data)
                    )
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = np.zeros_like(data)
                state["step"] = t = state["step"] + 1  # per parameter, as PyTorch's
                if maximize:
                    grad = -grad
                if weight_decay and decoupled:
                    data *= 1 - lr * weight_decay  # AdamW: the weights shrink, apart from g
                elif weight_decay:
                    grad = grad + weight_decay * data
                m, v = state["exp_avg"], state["exp_avg_sq"]  # changed in place, as PyTorch's
                m *= b1
                m += (1 - b1) * grad
                v *= b2
                v += (grad * grad) * (1 - b2)
                if amsgrad:  # the largest second moment so far
                    v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                denominator = np.sqrt(v) / np.sqrt(1 - b2**t) + eps
                data -= (lr / (1 - b1**t)) * (m / denominator)
                p.data = data  # the same array, written in place: one write, its version raised
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``: each
    step first shrinks the weights, ``p *= 1 - lr · weight_decay``, then takes Adam's step
    without the decay in the gradient. Its ``weight_decay`` defaults to 0.01."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
