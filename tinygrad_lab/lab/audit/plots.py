"""The class at a glance: each student's submitted run-1 GRI against the spread of run-1 GRI over
seeds for their roll's configuration (the rules'), trained on the seed axis: one batch of seeds
for each distinct configuration, the configurations on the sweeps' process pool. The spread is
taken over `SPREAD_SEEDS` seeds spread evenly over the searched range (all of them when it
holds fewer): a 400-epoch run costs far more than the search's one forward pass a seed.

`class_gri` gives the typed data (`ClassGRI`, also `gri_spread.csv`); `plot_class_gri` draws it
(matplotlib)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from tinygrad_lab.lab.rules import LabConfig, RollNumberError, lab_config

SPREAD_SEEDS = 20  # a 400-epoch run a seed and roll: 20 seeds of one roll take ~2.6 s of CPU
BAND = (5, 95)  # the percentiles of the band; the whiskers are the minimum and maximum


@dataclass(frozen=True)
class GRISpread:
    """One submission: its student's roll, the run-1 GRI it reports (None: none, or not a
    number), and run 1's GRI over the seeds for that roll (None where no seed defines it)."""

    name: str  # the submission, as the audit names it
    roll: str
    submitted: float | None
    seeds: int
    defined: int  # seeds whose GRI is defined (no dead layer, no divergence)
    low: float | None  # the BAND's low percentile
    median: float | None
    high: float | None
    minimum: float | None
    maximum: float | None

    @property
    def within(self) -> bool | None:
        """Whether the submitted GRI lies within the seeds' range (None: nothing to compare)."""
        if self.submitted is None or self.minimum is None:
            return None
        return self.minimum <= self.submitted <= self.maximum


@dataclass(frozen=True)
class ClassGRI:
    seed_range: tuple[int, int]
    seeds: tuple[int, ...]  # the seeds trained for every roll
    students: tuple[GRISpread, ...]

    def to_csv(self) -> str:
        text = io.StringIO()
        writer = csv.writer(text)
        fields = ["submitted", "low", "median", "high", "minimum", "maximum"]
        writer.writerow(["submission", "roll", "seeds", "defined", *fields])
        for s in self.students:
            cells = ["" if getattr(s, f) is None else getattr(s, f) for f in fields]
            writer.writerow([s.name, s.roll, s.seeds, s.defined, *cells])
        return text.getvalue()


def spread_seeds(seed_range: tuple[int, int], count: int = SPREAD_SEEDS) -> list[int]:
    """``count`` seeds spread evenly over ``seed_range`` (both ends included), or all of it."""
    low, high = seed_range
    if high - low + 1 <= count:
        return list(range(low, high + 1))
    return [int(s) for s in np.unique(np.linspace(low, high, count).round().astype(int))]


def run1_gris(config: LabConfig, seeds: Sequence[int]) -> list[float | None]:
    """Run 1's GRI for every seed of ``config``, all trained at once (`seed_axis`)."""
    from tinygrad_lab.lab.studies.seed_axis import (  # the command line loads this
        Setting,
        train_seeds,
    )

    return [figures.run1.gri for figures in train_seeds(Setting(config), list(seeds))]


def _network(config: LabConfig) -> tuple[object, ...]:
    """What run 1 trains with: the network's settings, the samples and the epochs."""
    return (*config.network().values(), config.n_samples, config.epochs)


def _submitted(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _spread(name: str, roll: str, submitted: float | None, gris: list[float | None]) -> GRISpread:
    defined = np.array([g for g in gris if g is not None and math.isfinite(g)], dtype=float)
    if not len(defined):
        return GRISpread(name, roll, submitted, len(gris), 0, None, None, None, None, None)
    low, median, high = (float(v) for v in np.percentile(defined, [BAND[0], 50, BAND[1]]))
    return GRISpread(
        name, roll, submitted, len(gris), len(defined), low, median, high,
        float(defined.min()), float(defined.max()),
    )  # fmt: skip


def class_gri(
    audits: Sequence[Any],
    seed_range: tuple[int, int],
    count: int = SPREAD_SEEDS,
    workers: int | None = None,
    progress: bool = False,
) -> ClassGRI:
    """Each submission's (`SubmissionAudit`) run-1 GRI against its roll's spread over seeds; a
    submission whose roll breaks the rules has no configuration to train, and one with no
    Part A figure (outputs cleared, a PDF) nothing to plot: both are left out."""
    from tinygrad_lab.lab.audit.verdict import student_roll

    seeds = spread_seeds(seed_range, count)
    audits = [a for a in audits if a.part_a_figures]
    configs: dict[str, LabConfig] = {}
    for audit in audits:
        try:
            configs[student_roll(audit)] = lab_config(student_roll(audit))
        except RollNumberError:
            continue
    # rolls of one network (their digits differ, their rules agree) train once
    distinct = {_network(c): c for c in reversed(configs.values())}
    train = partial(run1_gris, seeds=tuple(seeds))
    if len(distinct) > 1:
        from tinygrad_lab.lab.pool import run_many

        trained = run_many(list(distinct.values()), workers=workers, progress=progress, fn=train)
    else:
        trained = [train(config) for config in distinct.values()]
    gris = dict(zip(distinct, trained, strict=True))
    students = [
        _spread(a.name, roll, _submitted(a.part_a_figures.get("run1.gri")),
                gris[_network(configs[roll])])
        for a in audits
        if (roll := student_roll(a)) in configs
    ]  # fmt: skip
    return ClassGRI(seed_range, tuple(seeds), tuple(sorted(students, key=lambda s: s.name)))


def plot_class_gri(
    data: ClassGRI,
    file: Any,
    clean: set[str] = frozenset(),
    labels: dict[str, str] | None = None,
) -> Any:
    """One row a submission (labelled by ``labels``, else its name): its roll's band
    (5–95 %) and range of run-1 GRI over the seeds, the median, and the submitted GRI as a
    dot (filled for a clean submission: ``clean`` holds their names)."""
    labels = labels or {}
    from tinygrad_lab.lab.output.plotting import pyplot, save_png

    plt = pyplot("the class plot")
    rows = data.students
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * max(len(rows), 1)))
    for y, s in enumerate(rows):
        if s.minimum is not None:
            ax.plot([s.minimum, s.maximum], [y, y], color="0.6", lw=1, zorder=1)
            ax.plot([s.low, s.high], [y, y], color="tab:blue", lw=6, alpha=0.45, zorder=2)
            ax.plot([s.median], [y], "|", color="tab:blue", ms=12, zorder=3)
        if s.submitted is not None:
            filled = s.name in clean
            ax.plot([s.submitted], [y], "o", ms=6, zorder=4, color="black",
                    markerfacecolor="black" if filled else "white")  # fmt: skip
    ax.set_yticks(range(len(rows)), [labels.get(s.name, s.name) for s in rows])
    ax.invert_yaxis()
    values = [v for s in rows for v in (s.minimum, s.maximum, s.submitted) if v is not None]
    if values and min(values) > 0:
        ax.set_xscale("log")
    low, high = data.seed_range
    ax.set_xlabel(
        f"run-1 GRI: band {BAND[0]}–{BAND[1]} %, line min–max over {len(data.seeds)} seeds of "
        f"{low}–{high}; dot: submitted (filled: clean)"
    )
    ax.set_title("Submitted GRI against the spread over seeds for each roll")
    ax.grid(axis="x", alpha=0.3)
    return save_png(plt, fig, file)
