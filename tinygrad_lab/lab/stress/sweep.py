"""Part A over many seeds (or a class's rolls): every figure's distribution, the share of runs
in which GRI fell after the break, the share with a dead layer."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tinygrad_lab.lab.options import parse_seeds  # noqa: F401  (lab.sweep's before the move)
from tinygrad_lab.lab.pool import (  # noqa: F401  (lab.sweep's before the move)
    Distribution,
    DuplicateWarning,
    SweepError,
    dask_executor,
    run_many,
)
from tinygrad_lab.lab.stress.analysis import diagnose
from tinygrad_lab.lab.stress.compute import LabResult
from tinygrad_lab.lab.stress.part_a import RUNS


def flatten(results: dict[str, Any], prefix: str = "") -> dict[str, float | None]:
    """Scalar figures of a JSON object as ``{"part_a.run1.gri": value, ...}`` (lists left
    out)."""
    flat: dict[str, float | None] = {}
    for key, value in results.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            flat[name] = value
    return flat


SUMMARY_SKIP = ("seed", "config.", "part_b.", "q2.weight", "q2.bias")


@dataclass(frozen=True)
class SweepSummary:
    """Part A over many seeds (or rolls)."""

    seeds: list[int]
    gri_fell_share: float | None  # share of runs with both GRIs defined where run 2's is lower
    gri_defined_runs: int
    dead_layer_share: float  # share of runs with a dead layer in run 1 or run 2
    distribution: dict[str, Distribution]  # every numeric figure of the JSON, by its path
    gri_fell_runs: int = 0  # the runs behind gri_fell_share, counted
    dead_layer_runs: int = 0  # the runs behind dead_layer_share, counted
    verdicts: dict[str, dict[str, int]] = field(default_factory=dict)  # run -> verdict -> runs

    @property
    def runs(self) -> int:
        return len(self.seeds)

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "seeds": self.seeds,
            "gri_fell_share": self.gri_fell_share,
            "gri_defined_runs": self.gri_defined_runs,
            "dead_layer_share": self.dead_layer_share,
            "distribution": {k: d.to_json() for k, d in self.distribution.items()},
            "gri_fell_runs": self.gri_fell_runs,
            "dead_layer_runs": self.dead_layer_runs,
            "verdicts": self.verdicts,
        }


def summarise(results: list[LabResult]) -> SweepSummary:
    """Median and quartiles of every numeric figure over runs (of Part A), the share of runs in
    which GRI fell after the break, and the share with a dead layer."""
    # "every figure" is what the JSON holds, so the distribution is taken over its numbers
    flats = [flatten(r.to_json()) for r in results]
    keys = [k for k in flats[0] if not k.startswith(SUMMARY_SKIP)]
    distribution = {k: Distribution.of(flat.get(k) for flat in flats) for k in keys}
    stresses = [r.part_a for r in results if r.part_a is not None]
    both = [(s.run1.gri, s.run2.gri) for s in stresses]
    defined = [(g1, g2) for g1, g2 in both if g1 is not None and g2 is not None]
    dead = [bool(s.run1.dead_layers or s.run2.dead_layers) for s in stresses]
    fell = sum(g2 < g1 for g1, g2 in defined)
    verdicts = {
        name: dict(Counter(diagnose(s.runs()[name])[0] for s in stresses).most_common())
        for name in RUNS
    }
    return SweepSummary(
        seeds=[int(r.run.seed) for r in results],
        gri_fell_share=fell / len(defined) if defined else None,
        gri_defined_runs=len(defined),
        dead_layer_share=sum(dead) / len(dead),
        distribution=distribution,
        gri_fell_runs=fell,
        dead_layer_runs=sum(dead),
        verdicts=verdicts,
    )
