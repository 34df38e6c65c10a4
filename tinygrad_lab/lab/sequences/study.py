"""The time study: how the gradient fades along time, and which recurrent cell still learns.

The depth study's question (lab-spec §4–5, Q1) asked along time instead of depth. For every cell
(vanilla RNN with tanh and with ReLU, LSTM, GRU), sequence length T and seed, a small network
(`model.AddingModel`: the cell's layer, a Linear head on h_T) is trained on the adding problem
(`data.adding_problem`) with Adam on the MSE, a fresh batch every step. Each run gives:

- the gradient ratio through time ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ (the lab's GRI along time), before
  training and after it, on the run's test set (`model.hidden_grad_norms`);
- its test MSE against the baseline of always predicting the mean (the test targets'
  variance, about 1/6), and whether it learned the task (`LEARNED_BELOW`).

`run_time_study` (or `time_study`) returns a `TimeResult`: the same typed figures as the
lab's other studies (`lab.studies`), one setting a (cell, length), so that their medians and
quartiles, the long-form table, the JSON and the plots are read off it alike.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_lab import nn, optim
from tinygrad_lab.lab.digits.train import _one_blas_thread
from tinygrad_lab.lab.options import is_whole_number
from tinygrad_lab.lab.sequences.data import adding_problem, baseline_mse
from tinygrad_lab.lab.sequences.model import CELLS, AddingModel, hidden_grad_norms, mse_on
from tinygrad_lab.lab.stress.part_a import gradient_ratio_index
from tinygrad_lab.lab.studies.compute import Metric, SettingResult, StudyResult, StudySetting
from tinygrad_lab.tensor import Tensor

# A run has learned the adding problem when its test MSE is below this fraction of the
# baseline's. Why a quarter: a network that ignores the first marked value (at least T/2 steps
# back) can at best predict x₂ + ½, and is left with var(x₁) = 1/12, half the baseline's 1/6;
# below a quarter it must have carried the first value across time.
LEARNED_BELOW = 0.25

DEFAULT_CELLS = tuple(CELLS)
DEFAULT_LENGTHS = (4, 8, 16, 32)
DEFAULT_SEEDS = tuple(range(5))
DEFAULT_STEPS = 300
HIDDEN_SIZE = 16
BATCH_SIZE = 64
TEST_SEQUENCES = 512
LEARNING_RATE = 0.01
# What a time step of each cell costs, relative to the vanilla RNN's (measured: its gates make
# an LSTM or GRU step about three times as long): the longest runs start first.
STEP_COST = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 3, "gru": 3}


@dataclass(frozen=True)
class TimeStudy:
    """What the time study runs: the cells, the sequence lengths (sorted), the seeds, and the
    training every (cell, length, seed) gets: ``steps`` Adam steps at ``learning_rate``, each on
    a fresh batch of ``batch_size`` sequences, ``hidden_size`` units; ``test_sequences`` to test
    on."""

    cells: tuple[str, ...] = DEFAULT_CELLS
    lengths: tuple[int, ...] = DEFAULT_LENGTHS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    steps: int = DEFAULT_STEPS
    hidden_size: int = HIDDEN_SIZE
    batch_size: int = BATCH_SIZE
    learning_rate: float = LEARNING_RATE
    test_sequences: int = TEST_SEQUENCES

    kind = "time"  # as the other studies' kinds: study.csv's ``study`` column, the JSON's

    def __post_init__(self) -> None:
        for name in ("cells", "lengths", "seeds"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
            if not getattr(self, name):
                raise ValueError(f"the time study needs at least one {name[:-1]}")
        bad = [f"cell {c!r} (one of {', '.join(CELLS)})" for c in self.cells if c not in CELLS]
        bad += [
            f"length {n!r} (a whole number >= 2)" for n in self.lengths if not is_whole_number(n, 2)
        ]
        bad += [
            f"seed {s!r} (a whole number >= 0)" for s in self.seeds if not is_whole_number(s, 0)
        ]
        for name in ("steps", "hidden_size", "batch_size", "test_sequences"):
            if not is_whole_number(getattr(self, name), 1):
                bad.append(f"{name} {getattr(self, name)!r} (a whole number >= 1)")
        rate = self.learning_rate
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            bad.append(f"learning rate {rate!r} (a positive number)")
        for name in ("cells", "lengths", "seeds"):
            values = getattr(self, name)
            if len(set(values)) < len(values):
                bad.append(f"{name} {values!r} (each once)")
        if bad:
            raise ValueError(f"bad {bad[0]}")
        object.__setattr__(self, "lengths", tuple(sorted(self.lengths)))  # an axis: in order

    def settings(self) -> list[StudySetting]:
        """Every (cell, length), cell by cell, lengths in the order given."""
        return [
            StudySetting((("cell", cell), ("length", length)), SequenceSetting(self, cell, length))
            for cell in self.cells
            for length in self.lengths
        ]


@dataclass(frozen=True)
class SequenceSetting:
    """One setting of a time study: what every seed of it trains."""

    study: TimeStudy
    cell: str
    length: int


# ------------------------------------------------------------------------------ one run
@dataclass(frozen=True)
class SequenceRun:
    """One (cell, length, seed) trained: its figures."""

    seed: int
    loss_history: tuple[float, ...]  # the training MSE of every step's batch, before its update
    # the first step whose loss was not finite, where training stopped (steps + 1: the trained
    # network's test loss was not)
    diverged_at: int | None
    test_mse: float | None  # after training (None: diverged)
    baseline_mse: float  # of always predicting the mean, on the same test set
    grad_norms_init: tuple[float, ...]  # ‖∂L/∂h_t‖, t = 1 … T, before training
    grad_norms: tuple[float, ...] | None  # after training (None: diverged)

    @property
    def ratio_init(self) -> float | None:
        """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ before training (None when undefined)."""
        return gradient_ratio_index(self.grad_norms_init[0], self.grad_norms_init[-1])[0]

    @property
    def ratio(self) -> float | None:
        """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ after training (None when undefined or diverged)."""
        if self.grad_norms is None:
            return None
        return gradient_ratio_index(self.grad_norms[0], self.grad_norms[-1])[0]

    @property
    def loss_ratio(self) -> float | None:
        """Test MSE over the baseline's: 1 is no better than predicting the mean."""
        return None if self.test_mse is None else self.test_mse / self.baseline_mse

    @property
    def learned(self) -> bool:
        """Test MSE below `LEARNED_BELOW` of the baseline's (a diverged run did not learn)."""
        return self.loss_ratio is not None and self.loss_ratio < LEARNED_BELOW


def _generators(seed: int) -> tuple[np.random.Generator, ...]:
    """Seed ``seed``'s three independent streams: the weights, the training batches, the test
    set. The same for every cell, so the cells of a length see the same sequences."""
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))


def train_run(setting: SequenceSetting, seed: int) -> SequenceRun:
    """Train ``setting``'s network for seed ``seed`` and measure it, on one BLAS thread (as
    `digits` trains: on products this small more threads mostly wait on each other, 4× slower
    measured here on 2 busy cores)."""
    with _one_blas_thread():
        return _train(setting, seed)


def _train(setting: SequenceSetting, seed: int) -> SequenceRun:
    study = setting.study
    weights, batches, tests = _generators(seed)
    model = AddingModel(setting.cell, study.hidden_size, weights)
    test = adding_problem(tests, study.test_sequences, setting.length)
    norms_init = hidden_grad_norms(model, test)
    optimizer = optim.Adam(model.parameters(), lr=study.learning_rate)
    loss_fn, history, diverged_at = nn.MSELoss(), [], None
    for step in range(1, study.steps + 1):
        batch = adding_problem(batches, study.batch_size, setting.length)
        loss = loss_fn(model(batch.inputs), Tensor(batch.targets))
        if not math.isfinite(loss.item()):
            diverged_at = step
            break
        history.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    tested = mse_on(model, test) if diverged_at is None else math.nan
    finite = math.isfinite(tested)
    return SequenceRun(
        seed=seed,
        loss_history=tuple(history),
        diverged_at=diverged_at if finite else (diverged_at or study.steps + 1),
        test_mse=tested if finite else None,
        baseline_mse=baseline_mse(test),
        grad_norms_init=norms_init,
        grad_norms=hidden_grad_norms(model, test) if finite else None,
    )


# ------------------------------------------------------------------------------ figures
def _metrics() -> tuple[Metric, ...]:
    """The figures of each run, as study.csv and the JSON name them."""

    def flag(read: Callable[[SequenceRun], bool]) -> Callable[[SequenceRun], float]:
        return lambda run: float(read(run))

    return (
        Metric("ratio_init", "‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ before training", lambda r: r.ratio_init),
        Metric("ratio", "‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ after training", lambda r: r.ratio),
        Metric("test_mse", "test MSE", lambda r: r.test_mse),
        Metric("baseline_mse", "baseline MSE", lambda r: r.baseline_mse, table=False),
        Metric("loss_ratio", "test MSE / baseline", lambda r: r.loss_ratio),
        Metric("learned", "learned", flag(lambda r: r.learned), share=True),
        Metric("diverged", "diverged", flag(lambda r: r.diverged_at is not None), share=True),
        Metric("diverged_at", "diverged at step", lambda r: r.diverged_at, table=False),
    )


TIME_METRICS = _metrics()


@dataclass(frozen=True)
class TimeResult(StudyResult):
    """A time study's settings, each with every seed's `SequenceRun`. Its lines (in the tables
    and the plots, `by_activation` as the lab's other studies call them) are the cells."""

    study: TimeStudy  # type: ignore[assignment]
    settings: tuple[SettingResult, ...]
    metrics: tuple[Metric, ...] = field(default=TIME_METRICS, repr=False)

    def by_activation(self) -> dict[str, list[SettingResult]]:
        """The settings of each cell, lengths in the study's order."""
        groups: dict[str, list[SettingResult]] = {}
        for result in self.settings:
            groups.setdefault(result.setting.value("cell"), []).append(result)
        return groups

    by_cell = by_activation


# ------------------------------------------------------------------------------ running
@dataclass(frozen=True)
class _Task:
    """One run: seed ``seeds[offset]`` of setting ``index``."""

    index: int
    offset: int
    setting: SequenceSetting
    seed: int

    @property
    def cost(self) -> int:
        return STEP_COST.get(self.setting.cell, 1) * self.setting.length


def _train_task(task: _Task) -> SequenceRun:
    return train_run(task.setting, task.seed)


def run_time_study(
    study: TimeStudy,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> TimeResult:
    """Train every (cell, length) of ``study`` for every seed, on ``executor`` (a local process
    pool of ``workers`` when None, with a progress bar: `sweep.run_many`)."""
    from tinygrad_lab.lab.pool import _progress, run_many

    settings = study.settings()
    tasks = [
        _Task(k, i, s.setting, seed)
        for k, s in enumerate(settings)
        for i, seed in enumerate(study.seeds)
    ]
    tasks.sort(key=lambda task: task.cost, reverse=True)  # the longest first: a fuller pool
    if executor is None and (workers or os.cpu_count() or 1) == 1:  # no pool for one process
        done = []
        with _progress(len(tasks), progress) as advance:
            for task in tasks:
                done.append(_train_task(task))
                advance()
    else:
        done = run_many(tasks, executor, workers, progress, fn=_train_task)
    runs: list[list[SequenceRun | None]] = [[None] * len(study.seeds) for _ in settings]
    for task, run in zip(tasks, done, strict=True):
        runs[task.index][task.offset] = run
    results = [SettingResult(s, tuple(r)) for s, r in zip(settings, runs, strict=True)]
    return TimeResult(study, tuple(results))


def time_study(
    cells: tuple[str, ...] = DEFAULT_CELLS,
    lengths: tuple[int, ...] = DEFAULT_LENGTHS,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    steps: int = DEFAULT_STEPS,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
    **training: Any,
) -> TimeResult:
    """The time study in one call: ``time_study(lengths=(5, 10), seeds=range(3))``; the
    training's other settings (``hidden_size``, ``batch_size``, ``learning_rate``,
    ``test_sequences``) by name, as `TimeStudy` takes them."""
    study = TimeStudy(tuple(cells), tuple(lengths), tuple(seeds), steps, **training)
    return run_time_study(study, executor, workers, progress)
