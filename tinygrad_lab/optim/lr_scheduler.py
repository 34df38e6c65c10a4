"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``: each sets ``group["lr"]`` of its
optimizer's param groups at every ``step()``, called once an epoch (OneCycleLR: once a batch)
after ``optimizer.step()``.

As in PyTorch, ``StepLR``, ``MultiStepLR``, ``ExponentialLR`` and ``CosineAnnealingLR`` are
chainable: each step changes the current ``group["lr"]`` (it multiplies it, or moves it along the
cosine), so two of them on one optimizer combine, and an lr you set by hand is carried on from.
``LambdaLR`` and ``OneCycleLR`` set the lr from the schedule's start, and ``ReduceLROnPlateau``
divides it when a metric stops improving. Made, a scheduler takes its first step (epoch 0)."""

from __future__ import annotations

import copy
import math
import numbers
import types
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinygrad_lab.optim.optimizer import Optimizer, _kind, check_real
from tinygrad_lab.tensor import Tensor


class LRScheduler:
    """The base: ``base_lrs`` (each group's ``initial_lr``), ``last_epoch`` (the epoch whose lr
    is set now; -1 before the first step), ``step()``, ``get_last_lr()``, ``state_dict()`` and
    ``load_state_dict()``. A new scheduler writes ``get_lr()``, the groups' lrs at
    ``last_epoch``, and leaves the optimizer alone in it (``step`` writes them)."""

    _is_initial = False  # True in the step the constructor takes

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        if not isinstance(last_epoch, numbers.Integral) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an int >= -1, got {_kind(last_epoch)}")
        groups = optimizer.param_groups
        if last_epoch != -1:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}: last_epoch={last_epoch} resumes a schedule, but "
                        f"param_groups[{i}] has no 'initial_lr' (load the optimizer's "
                        "state_dict first; for a new run, leave last_epoch at -1)"
                    )
        added = [group for group in groups if "initial_lr" not in group]
        for group in added:
            group["initial_lr"] = group["lr"]
        self.optimizer = optimizer
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = int(last_epoch)
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        except BaseException:  # (a LambdaLR whose function fails at epoch 0): as it was
            for group in added:
                del group["initial_lr"]
            raise
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """Each group's lr at ``last_epoch``, for ``step()`` to set (to read the lr, use
        ``get_last_lr()``)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """Each param group's lr, as the last step set it."""
        return list(self._last_lr)

    def step(self, epoch: None = None) -> None:
        """Move to the next epoch and set each group's lr for it. Nothing changes if it raises."""
        name = type(self).__name__
        if epoch is not None:
            raise TypeError(
                f"{name}.step() takes no epoch (PyTorch deprecated step(epoch)): call step() "
                "once an epoch; to resume, load_state_dict(). A metric goes to "
                "ReduceLROnPlateau.step(metrics)"
            )
        if self._step_count == 1 and self.optimizer._step_count == 0:
            warnings.warn(
                f"{name}.step() was called before optimizer.step(): the first learning rate of "
                "the schedule is skipped. Call optimizer.step() first, as in PyTorch >= 1.1",
                UserWarning,
                stacklevel=2,
            )
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                f"{name}: the optimizer has {len(groups)} param groups, {len(self.base_lrs)} when "
                "the scheduler was made; make the scheduler after add_param_group"
            )
        self.last_epoch += 1
        try:
            lrs = self.get_lr()
            for i, lr in enumerate(lrs):
                check_real(
                    f"{name} at epoch {self.last_epoch}",
                    f"the lr of param_groups[{i}]",
                    lr,
                    lambda v: v >= 0,
                    "a number >= 0",
                )
        except BaseException:
            self.last_epoch -= 1
            raise
        self._step_count += 1
        for group, lr in zip(groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (copies): pass it to ``load_state_dict`` to resume."""
        return copy.deepcopy({k: v for k, v in vars(self).items() if k != "optimizer"})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the state ``state_dict()`` gave: of a scheduler of this kind, or an error."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}: expected a dict from state_dict(), got {_kind(state_dict)}")
        mine = set(vars(self)) - {"optimizer"}
        missing, unexpected = sorted(mine - set(state_dict)), sorted(set(state_dict) - mine)
        if missing or unexpected:
            raise ValueError(
                f"{name}: the state dict lacks {missing} and has {unexpected} besides: is it "
                "another scheduler's?"
            )
        vars(self).update(copy.deepcopy(state_dict))


def _check_optimizer(name: str, optimizer: Any) -> None:
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        raise TypeError(
            f"{name}: optimizer is the class {optimizer.__name__}, not an optimizer; make one "
            f"first: {optimizer.__name__}(model.parameters(), lr=...)"
        )
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{name}: optimizer must be an optim.Optimizer (such as optim.SGD(...)), got "
            f"{_kind(optimizer)}"
        )


def _check_count(name: str, key: str, value: Any, least: int) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < least:
        raise ValueError(f"{name}: {key} must be an int >= {least}, got {_kind(value)}")


def _per_group(name: str, key: str, value: Any, optimizer: Optimizer) -> list[Any]:
    """``value`` for each param group: one value for all, or a list of one per group."""
    if isinstance(value, list | tuple):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name}: {key} has {len(value)} values, the optimizer "
                f"{len(optimizer.param_groups)} param groups"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


# --------------------------------------------------------------------------- the schedules
class LambdaLR(LRScheduler):
    """``lr = base_lr · lr_lambda(epoch)``: one function for every group, or a list of one per
    group. ``state_dict()`` keeps a callable object's attributes, not a function (as PyTorch)."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer("LambdaLR", optimizer)
        self.lr_lambdas = _per_group("LambdaLR", "lr_lambda", lr_lambda, optimizer)
        for i, function in enumerate(self.lr_lambdas):
            if not callable(function):
                raise TypeError(
                    f"LambdaLR: lr_lambda[{i}] must be a function of the epoch, got "
                    f"{_kind(function)}"
                )
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base_lr * function(self.last_epoch)
            for base_lr, function in zip(self.base_lrs, self.lr_lambdas, strict=True)
        ]

    def state_dict(self) -> dict[str, Any]:
        saved = {k: v for k, v in vars(self).items() if k not in ("optimizer", "lr_lambdas")}
        saved = copy.deepcopy(saved)
        saved["lr_lambdas"] = [
            None if isinstance(f, types.FunctionType) else copy.deepcopy(vars(f))
            for f in self.lr_lambdas
        ]
        return saved

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        functions = self.lr_lambdas
        super().load_state_dict(state_dict)
        self.lr_lambdas = functions  # the functions stay; a callable object takes its state
        for function, saved in zip(functions, state_dict["lr_lambdas"], strict=True):
            if saved is not None:
                vars(function).update(copy.deepcopy(saved))


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs:
    ``lr = base_lr · gamma^⌊epoch / step_size⌋`` (chainable)."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        _check_count("StepLR", "step_size", step_size, 1)
        check_real("StepLR", "gamma", gamma, lambda v: v > 0, "a number > 0")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each epoch of ``milestones`` (one given twice: by
    ``gamma²``): ``lr = base_lr · gamma^(number of milestones <= epoch)`` (chainable)."""

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(milestones, Iterable) or isinstance(milestones, str):
            raise TypeError(
                f"MultiStepLR: milestones must be a list of epochs, got {_kind(milestones)}"
            )
        milestones = list(milestones)
        for k, epoch in enumerate(milestones):
            _check_count("MultiStepLR", f"milestones[{k}]", epoch, 0)
        check_real("MultiStepLR", "gamma", gamma, lambda v: v > 0, "a number > 0")
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        factor = self.gamma ** self.milestones[self.last_epoch]  # (a Counter: 0 if not there)
        return [group["lr"] * factor for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``lr = base_lr · gamma^epoch`` (chainable)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        check_real("ExponentialLR", "gamma", gamma, lambda v: v > 0, "a number > 0")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs (then back up,
    as PyTorch): ``lr = eta_min + (base_lr - eta_min)(1 + cos(π · epoch / T_max)) / 2``.
    Chainable, as PyTorch's: each step multiplies ``lr - eta_min`` by the ratio of the
    formula's consecutive values, so it follows the formula when nothing else changes the lr."""

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        _check_count("CosineAnnealingLR", "T_max", T_max, 1)
        check_real("CosineAnnealingLR", "eta_min", eta_min, lambda v: v >= 0, "a number >= 0")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups, t = self.optimizer.param_groups, self.last_epoch
        T, eta_min = self.T_max, self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if (t - 1 - T) % (2 * T) == 0:  # from the bottom (the ratio would divide by 0): step up
            rise = (1 - math.cos(math.pi / T)) / 2
            return [
                group["lr"] + (base_lr - eta_min) * rise
                for group, base_lr in zip(groups, self.base_lrs, strict=True)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [eta_min + ratio * (group["lr"] - eta_min) for group in groups]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), stepped once a batch over ``total_steps`` (or
    ``epochs · steps_per_epoch``): the lr rises from ``max_lr / div_factor`` to ``max_lr`` in
    the first ``pct_start`` of the steps, then falls to ``initial_lr / final_div_factor``
    (``three_phase``: back to the initial lr first, then down), each stretch a half cosine
    (``anneal_strategy="cos"``) or a line; the momentum (SGD's ``momentum``, Adam's ``betas[0]``)
    moves the other way between ``max_momentum`` and ``base_momentum``. Not chainable."""

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        check_real(name, "pct_start", pct_start, lambda v: 0 <= v <= 1, "in [0, 1]")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        for key, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            check_real(name, key, value, lambda v: v > 0, "a number > 0")
        self._schedule_phases = _phases(self.total_steps, pct_start, three_phase)
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, bool(cycle_momentum)
        max_lrs = _per_group(name, "max_lr", max_lr, optimizer)
        for i, value in enumerate(max_lrs):
            check_real(
                name, f"max_lr of param_groups[{i}]", value, lambda v: v >= 0, "a number >= 0"
            )
        momenta = self._momenta(optimizer, max_momentum, base_momentum)
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, top in zip(groups, max_lrs, strict=True):
                group.update(initial_lr=top / div_factor, max_lr=top)
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if last_epoch == -1 and self.cycle_momentum:
            for group, (high, low) in zip(groups, momenta, strict=True):
                group.update(max_momentum=high, base_momentum=low)
                self._set_momentum(group, high)
        super().__init__(optimizer, last_epoch)

    def _momenta(self, optimizer: Optimizer, high: Any, low: Any) -> list[tuple[float, float]]:
        """Each group's (max_momentum, base_momentum), checked; none without cycle_momentum."""
        if not self.cycle_momentum:
            return []
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError(
                f"OneCycleLR: {type(optimizer).__name__} has no momentum or betas to cycle; "
                "pass cycle_momentum=False"
            )
        self.use_beta1 = "betas" in optimizer.defaults
        pairs = list(
            zip(
                _per_group("OneCycleLR", "max_momentum", high, optimizer),
                _per_group("OneCycleLR", "base_momentum", low, optimizer),
                strict=True,
            )
        )
        for i, pair in enumerate(pairs):
            for key, value in zip(("max_momentum", "base_momentum"), pair, strict=True):
                check_real(
                    "OneCycleLR",
                    f"{key} of param_groups[{i}]",
                    value,
                    lambda v: 0 <= v < 1,
                    "in [0, 1)",
                )
        return pairs

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start: float, end: float, pct: float) -> float:
        """From ``start`` (pct 0) to ``end`` (pct 1): half a cosine, or a line."""
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: step {step} is past the cycle's total_steps={self.total_steps}; "
                "make a new scheduler for more steps"
            )
        start, phases = 0.0, self._schedule_phases
        for i, phase in enumerate(phases):  # the phase this step is in
            if step <= phase["end_step"] or i == len(phases) - 1:
                # (step total_steps, one past the cycle's last, stays at its end: PyTorch goes on
                # along the last stretch, below min_lr, to a negative lr when it is a line)
                pct = min((step - start) / (phase["end_step"] - start), 1.0)
                break
            start = phase["end_step"]
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._anneal(
                    group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                )
                self._set_momentum(group, momentum)
        return lrs


def _total_steps(total_steps: Any, epochs: Any, steps_per_epoch: Any) -> int:
    if total_steps is not None:
        _check_count("OneCycleLR", "total_steps", total_steps, 1)
        return int(total_steps)
    if epochs is None or steps_per_epoch is None:
        raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
    _check_count("OneCycleLR", "epochs", epochs, 1)
    _check_count("OneCycleLR", "steps_per_epoch", steps_per_epoch, 1)
    return int(epochs * steps_per_epoch)


def _phases(total: int, pct_start: float, three_phase: bool) -> list[dict[str, Any]]:
    """The schedule's stretches, PyTorch's: where each ends (a step, maybe fractional) and the
    group keys its lr and momentum go from and to."""

    def phase(end: float, lrs: tuple[str, str], momenta: tuple[str, str]) -> dict[str, Any]:
        return {
            "end_step": end,
            "start_lr": lrs[0],
            "end_lr": lrs[1],
            "start_momentum": momenta[0],
            "end_momentum": momenta[1],
        }

    up, down = ("max_momentum", "base_momentum"), ("base_momentum", "max_momentum")
    warm = float(pct_start * total) - 1
    if three_phase:
        phases = [
            phase(warm, ("initial_lr", "max_lr"), up),
            phase(float(2 * pct_start * total) - 2, ("max_lr", "initial_lr"), down),
            phase(total - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum")),
        ]
    else:
        phases = [
            phase(warm, ("initial_lr", "max_lr"), up),
            phase(total - 1, ("max_lr", "min_lr"), down),
        ]
    starts = [0.0] + [p["end_step"] for p in phases[:-1]]
    for k, (start, p) in enumerate(zip(starts, phases, strict=True)):
        if p["end_step"] == start:  # PyTorch divides by zero here
            raise ValueError(
                f"OneCycleLR: with total_steps={total} and pct_start={pct_start}, phase {k + 1} "
                "of the cycle has no steps; change pct_start"
            )
    return phases


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` (not below ``min_lr``) when the metric given to
    ``step(metrics)`` has not improved for more than ``patience`` epochs, then wait
    ``cooldown`` epochs. Improved: below ``best · (1 - threshold)`` (``mode="min"``,
    ``threshold_mode="rel"``), ``best - threshold`` (``"abs"``), or above ``best · (1 +
    threshold)`` / ``best + threshold`` with ``mode="max"``. A change smaller than ``eps`` is
    not made."""

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name}: mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', got "
                f"mode={mode!r}, threshold_mode={threshold_mode!r}"
            )
        check_real(name, "factor", factor, lambda v: 0 < v < 1, "in (0, 1)")
        _check_count(name, "patience", patience, 0)
        _check_count(name, "cooldown", cooldown, 0)
        check_real(name, "threshold", threshold, lambda v: v >= 0, "a number >= 0")
        check_real(name, "eps", eps, lambda v: v >= 0, "a number >= 0")
        self.default_min_lr = None if isinstance(min_lr, list | tuple) else min_lr
        self.min_lrs = _per_group(name, "min_lr", min_lr, optimizer)
        for i, value in enumerate(self.min_lrs):
            check_real(
                name, f"min_lr of param_groups[{i}]", value, lambda v: v >= 0, "a number >= 0"
            )
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.factor, self.patience, self.cooldown = factor, patience, cooldown
        self.threshold, self.eps = threshold, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _is_better(self, a: float, best: float) -> bool:
        if self.threshold_mode == "rel":
            factor = 1 - self.threshold if self.mode == "min" else 1 + self.threshold
            return a < best * factor if self.mode == "min" else a > best * factor
        return a < best - self.threshold if self.mode == "min" else a > best + self.threshold

    def step(self, metrics: Any, epoch: None = None) -> None:  # type: ignore[override]
        """One epoch with this value of the watched metric (a number, or a one-element
        Tensor or array)."""
        current = _metric(metrics, epoch)
        groups = self.optimizer.param_groups
        min_lrs = self.min_lrs
        if len(groups) != len(min_lrs):
            if self.default_min_lr is None:
                raise ValueError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups, "
                    f"min_lr {len(min_lrs)} values; set min_lrs to one a group"
                )
            min_lrs = self.min_lrs = [self.default_min_lr] * len(groups)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(groups, min_lrs, strict=True):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in groups]


def _metric(metrics: Any, epoch: Any) -> float:
    """``metrics`` as a float: a number or one element; NaN is an error, not a bad epoch."""
    if epoch is not None:
        raise TypeError(
            "ReduceLROnPlateau.step() takes no epoch (PyTorch deprecated it): call "
            "step(metrics) once an epoch"
        )
    values = metrics.data if isinstance(metrics, Tensor) else metrics
    if isinstance(values, bool) or not (
        isinstance(values, numbers.Real) or (isinstance(values, np.ndarray) and values.size == 1)
    ):
        raise TypeError(
            f"ReduceLROnPlateau.step: metrics must be a number or a one-element Tensor, got "
            f"{_kind(metrics)}"
        )
    current = float(np.asarray(values).reshape(()))
    if math.isnan(current):
        raise ValueError(
            "ReduceLROnPlateau.step: metrics is NaN (did training diverge?); nothing was changed"
        )
    return current
