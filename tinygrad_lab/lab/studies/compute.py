"""Studies: the lab's questions (lab-spec §4–5) answered by experiment, over many seeds.

A study varies one or two things of a roll's configuration and trains every setting for every
seed, with the lab's own draws (seed ``s`` draws X, then the weights in layer order, as
``stress-test --seed s``), on the seed axis (`seed_axis.train_seeds`):

- ``depth``: hidden depth × activation (Q1, and Q3/Q5: does depth help?);
- ``init``: the lab's U(−r, r) against Xavier/Glorot and Kaiming/He, uniform and normal, at the
  roll's depth and after its structural break (is the attenuation the init's doing?);
- ``lr``: log-spaced learning rates (does a larger one overshoot?).

`run_study` returns a `StudyResult` of typed figures; its medians and quartiles, the finding
(computed from them), the long-form table, the JSON and the report are read off it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tinygrad_lab.lab.options import is_whole_number
from tinygrad_lab.lab.pool import Distribution
from tinygrad_lab.lab.rules import EPOCHS, LabConfig, record_epochs
from tinygrad_lab.lab.studies.seed_axis import (
    INIT_NAMES,
    INITS,
    RunFigures,
    SeedFigures,
    Setting,
    train_seeds,
)
from tinygrad_lab.nn import get_activation

KINDS = ("depth", "init", "lr")
TITLES = {"depth": "Depth study", "init": "Init study", "lr": "Learning-rate study"}
DEFAULT_DEPTHS = tuple(range(1, 21))
DEFAULT_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
DEFAULT_LRS = tuple(float(lr) for lr in np.logspace(-4, 0, 13))  # 1e-4 … 1, 13 values
DEFAULT_SEEDS = tuple(range(50))
CHUNK = 25  # seeds a task at most: the seed axis gains little from more
MIN_CHUNK = 5  # and at least, when the seeds are split to give every worker several tasks


@dataclass(frozen=True)
class Study:
    """What a study runs: its kind, the roll's configuration it starts from, the seeds and
    epochs, and the values it varies (only those of its kind are used)."""

    kind: str
    config: LabConfig
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    epochs: int = EPOCHS
    depths: tuple[int, ...] = DEFAULT_DEPTHS
    activations: tuple[str, ...] | None = None  # None: the kind's default
    inits: tuple[str, ...] = tuple(INITS)
    lrs: tuple[float, ...] = DEFAULT_LRS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown study {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.activations is None:  # depth compares activations; init and lr the roll's
            default = DEFAULT_ACTIVATIONS if self.kind == "depth" else (self.config.activation,)
            object.__setattr__(self, "activations", default)
        name, values = self.varied()
        for what, given in (("activation", self.activations), (name, values), ("seed", self.seeds)):
            if not given:
                raise ValueError(f"the {self.kind} study needs at least one {what}")
        _check(self)

    def varied(self) -> tuple[str, tuple]:
        """The name and the values of what the study varies for each activation."""
        varied = {"depth": ("depth", self.depths), "init": ("init", self.inits)}
        return varied.get(self.kind, ("lr", self.lrs))

    def settings(self) -> list[StudySetting]:
        """Every setting, activation by activation."""
        _, values = self.varied()
        return [_setting(self, a, value) for a in self.activations for value in values]


def _check(study: Study) -> None:
    """A ValueError naming the first value of ``study`` that cannot be trained."""
    bad = [f"depth {d!r} (a whole number >= 1)" for d in study.depths if not is_whole_number(d, 1)]
    bad += [f"seed {s!r} (a whole number >= 0)" for s in study.seeds if not is_whole_number(s, 0)]
    if not is_whole_number(study.epochs, 1):
        bad.append(f"epochs {study.epochs!r} (a whole number >= 1)")
    bad += [
        f"learning rate {lr!r} (a positive number)"
        for lr in study.lrs
        if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0)
    ]
    bad += [f"init {i!r} (one of {', '.join(INITS)})" for i in study.inits if i not in INITS]
    for activation in study.activations:
        get_activation(activation)  # a ValueError naming the known ones
    if bad:
        raise ValueError(f"bad {bad[0]}")


@dataclass(frozen=True)
class StudySetting:
    """One point of a study: the values it sets and the network trained for every seed."""

    parameters: tuple[tuple[str, Any], ...]  # e.g. (("activation", "relu"), ("depth", 5))
    setting: Setting

    @property
    def label(self) -> str:
        """``activation=relu;depth=5``: the study.csv ``setting`` column."""
        return ";".join(f"{name}={_text(value)}" for name, value in self.parameters)

    def value(self, name: str) -> Any:
        return dict(self.parameters)[name]


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def fmt_value(value: Any) -> str:
    """A varied value as the reports show it: 3 digits of a rate, an init's name."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return INIT_NAMES.get(value, str(value)) if isinstance(value, str) else str(value)


def _setting(study: Study, activation: str, value: Any) -> StudySetting:
    base = replace(study.config, activation=activation)
    if study.kind == "depth":
        config, init, name = replace(base, hidden_layers=value), "lab", "depth"
    elif study.kind == "init":
        config, init, name = base, value, "init"
    else:
        config, init, name = replace(base, learning_rate=value), "lab", "lr"
    setting = Setting(config, init, study.epochs, structural_break=study.kind == "init")
    return StudySetting((("activation", activation), (name, value)), setting)


# ------------------------------------------------------------------------------ figures
@dataclass(frozen=True)
class Metric:
    """A figure every seed of a setting gives (None where undefined)."""

    name: str  # its name in study.csv and the JSON: "gri", "run2.final_loss", "loss.100"
    title: str  # the table's and the plots' name
    value: Callable[[SeedFigures], float | None]
    share: bool = False  # 1 or 0 a seed: summarised as the share of seeds, not quartiles
    table: bool = True  # a column of study.md's table (the losses at epochs are not)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _run_metrics(run: str, prefix: str, epochs: int) -> list[Metric]:
    """The figures of run ``run`` ("run1", "run2") of a seed, named with ``prefix``."""

    def of(read: Callable[[RunFigures], Any]) -> Callable[[SeedFigures], Any]:
        return lambda seed: read(getattr(seed, run))

    def loss_at(epoch: int) -> Callable[[RunFigures], float | None]:
        return lambda r: r.loss_history[epoch - 1] if len(r.loss_history) >= epoch else None

    return [
        Metric(f"{prefix}gri", "GRI", of(lambda r: r.gri)),
        Metric(f"{prefix}grad_norm_first", "‖∇W_first‖", of(lambda r: _finite(r.grad_norm_first))),
        Metric(f"{prefix}grad_norm_last", "‖∇W_last‖", of(lambda r: _finite(r.grad_norm_last))),
        Metric(f"{prefix}final_loss", "final loss", of(lambda r: r.final_loss)),
        Metric(f"{prefix}r2", "R²", of(lambda r: r.r2)),
        Metric(
            f"{prefix}dead_layer",
            "dead layer",
            of(lambda r: None if r.dead_layers is None else float(r.dead_layers > 0)),
            share=True,
        ),
        Metric(
            f"{prefix}diverged", "diverged", of(lambda r: float(r.diverged_at is not None)), True
        ),
        Metric(
            f"{prefix}diverged_at", "diverged at epoch", of(lambda r: r.diverged_at), table=False
        ),
        *[
            Metric(f"{prefix}loss.{e}", f"loss at epoch {e}", of(loss_at(e)), table=False)
            for e in record_epochs(epochs)
        ],
    ]


def study_metrics(kind: str, epochs: int) -> list[Metric]:
    """The figures of each seed: run 1's; the init study also run 2's, after the break."""
    if kind != "init":
        return _run_metrics("run1", "", epochs)
    return _run_metrics("run1", "run1.", epochs) + _run_metrics("run2", "run2.", epochs)


@dataclass(frozen=True)
class SettingResult:
    """Every seed's figures of one setting."""

    setting: StudySetting
    seeds: tuple[SeedFigures, ...]

    def values(self, metric: Metric) -> list[float | None]:
        return [metric.value(seed) for seed in self.seeds]

    def distribution(self, metric: Metric) -> Distribution:
        """Median, quartiles and range over the seeds that define the figure."""
        return Distribution.of(self.values(metric))

    def share(self, metric: Metric) -> float | None:
        """The share of the seeds (of those defining it) where the 0/1 figure is 1."""
        defined = [v for v in self.values(metric) if v is not None]
        return sum(defined) / len(defined) if defined else None


@dataclass(frozen=True)
class StudyResult:
    """A study's settings, each with every seed's figures."""

    study: Study
    settings: tuple[SettingResult, ...]
    metrics: tuple[Metric, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.metrics:
            object.__setattr__(
                self, "metrics", tuple(study_metrics(self.study.kind, self.study.epochs))
            )

    def metric(self, name: str) -> Metric:
        return next(m for m in self.metrics if m.name == name)

    def by_activation(self) -> dict[str, list[SettingResult]]:
        """The settings of each activation, in the study's order."""
        groups: dict[str, list[SettingResult]] = {}
        for result in self.settings:
            groups.setdefault(result.setting.value("activation"), []).append(result)
        return groups

    def rows(self) -> Iterable[tuple[str, str, int, str, float | None]]:
        """study.csv's long form: (study, setting, seed, metric, value)."""
        for result in self.settings:
            for seed in result.seeds:
                for metric in self.metrics:
                    value = metric.value(seed)
                    yield self.study.kind, result.setting.label, seed.seed, metric.name, value


# ------------------------------------------------------------------------------ running
@dataclass(frozen=True)
class _Task:
    """Some seeds of one setting (from position ``offset`` of the study's seeds): what one
    process of the pool trains."""

    index: int
    offset: int
    setting: Setting
    seeds: tuple[int, ...]

    @property
    def cost(self) -> int:
        config = self.setting.config
        layers = config.hidden_layers + 1
        if self.setting.structural_break:
            layers = 2 * layers + config.added_layers
        return layers * self.setting.epochs * len(self.seeds)


def _chunk(seeds: int, settings: int, workers: int) -> int:
    """Seeds a task: about four tasks a worker, each `MIN_CHUNK` to `CHUNK` seeds."""
    per_setting = math.ceil(4 * workers / settings)
    return min(CHUNK, max(MIN_CHUNK, math.ceil(seeds / per_setting)))


def _train_task(task: _Task) -> list[SeedFigures]:
    return train_seeds(task.setting, task.seeds)


def run_study(
    study: Study,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> StudyResult:
    """Train every setting of ``study`` for every seed, on ``executor`` (a local process pool
    of ``workers`` when None, with a progress bar: `pool.run_many`)."""
    from tinygrad_lab.lab.pool import run_many

    settings = study.settings()
    size = _chunk(len(study.seeds), len(settings), workers or os.cpu_count() or 1)
    tasks = [
        _Task(k, i, s.setting, study.seeds[i : i + size])
        for k, s in enumerate(settings)
        for i in range(0, len(study.seeds), size)
    ]
    tasks.sort(key=lambda task: task.cost, reverse=True)  # the longest first: a fuller pool
    if len(tasks) == 1 and executor is None:
        done = [_train_task(tasks[0])]
    else:
        done = run_many(tasks, executor, workers, progress, fn=_train_task)
    seeds: list[list[SeedFigures]] = [[] for _ in settings]
    for task, figures in sorted(zip(tasks, done, strict=True), key=lambda pair: pair[0].offset):
        seeds[task.index] += figures
    results = [SettingResult(s, tuple(f)) for s, f in zip(settings, seeds, strict=True)]
    return StudyResult(study, tuple(results))


def seed_range(seeds: Sequence[int]) -> str:
    """``0…49`` for a contiguous range, else the seeds listed."""
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}…{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return ", ".join(map(str, seeds))
