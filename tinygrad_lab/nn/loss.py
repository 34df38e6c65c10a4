"""Loss layers, as PyTorch's: each holds its options and calls its `nn.functional` function
(``nn.L1Loss(reduction="sum")(input, target)`` is ``F.l1_loss(input, target, reduction="sum")``).

``reduction`` is "mean" (the default), "sum" or "none" (one loss per element, or per target).
Where PyTorch puts the deprecated ``size_average`` and ``reduce`` first, the options are
keyword-only here. A ``weight`` or ``pos_weight`` is a buffer (in ``state_dict()``, as in
PyTorch), a constant that no gradient reaches.
"""

from __future__ import annotations

from typing import Any

from tinygrad_lab import ops
from tinygrad_lab.nn import functional as F
from tinygrad_lab.nn.module import Module
from tinygrad_lab.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str) -> None:
        super().__init__()
        if reduction not in ops.REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {ops.REDUCTIONS}, "
                f"got {reduction!r}"
            )
        self.reduction = reduction

    def _weight(self, name: str, value: Any) -> None:
        self.register_buffer(name, F._constant(type(self).__name__, name, value))

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error; prediction and target shapes must match."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |input - target|; the shapes must match."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Quadratic within ``delta`` of the target, linear beyond: 0.5·d² where |d| < delta,
    else delta·(|d| - 0.5·delta). (PyTorch's argument order: reduction, then delta.)"""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta: the Huber loss divided by beta;
    beta = 0 is the L1 loss."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        if not beta >= 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta!r}")
        self.beta = float(beta)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (after a sigmoid); each log clamped
    at -100 as PyTorch does. ``weight`` rescales each element's loss (it broadcasts)."""

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._weight("weight", weight)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(input), computed stably from the logits (large logits
    give no overflow and no log(0)); ``pos_weight`` (one per class, along the last axis)
    weighs the positive examples, ``weight`` each element."""

    def __init__(
        self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None
    ) -> None:
        super().__init__(reduction)
        self._weight("weight", weight)
        self._weight("pos_weight", pos_weight)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices, from log-probabilities (N, C) (or
    (N, C, d1, ...), or (C,)): after ``log_softmax``. ``weight`` (one per class) weighs each
    target; targets equal to ``ignore_index`` count for nothing."""

    def __init__(
        self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self._weight("weight", weight)
        self.ignore_index = int(ignore_index)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class CrossEntropyLoss(_Loss):
    """Cross-entropy from logits (N, C) (or (N, C, d1, ...), or (C,)) and class indices,
    through a stable log-softmax: `NLLLoss` of ``log_softmax(input, dim=1)``, with its
    ``weight`` and ``ignore_index``."""

    def __init__(
        self,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        F._unsupported("CrossEntropyLoss", label_smoothing=(label_smoothing, 0.0))
        self._weight("weight", weight)
        self.ignore_index = int(ignore_index)

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return F.cross_entropy(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )
