"""What every workload is made of: contenders that run a number of work units on demand.

A timing workload (W1-W3) has contenders; each contender's ``prepare()`` builds fresh state
(untimed) and returns a `Runner`. The harness then advances every runner by the same chunk of
units in turn, timing each chunk, so the contenders are interleaved finely and each round of
chunks gives one paired ratio per contender.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol


class Runner(Protocol):
    def run(self, units: int) -> None:
        """Do the next ``units`` units of work (epochs, iterations)."""

    def result(self) -> float:
        """A number every contender should agree on (a loss, a gradient checksum)."""


@dataclasses.dataclass
class Contender:
    name: str
    prepare: Callable[[], Runner] | None  # None: not available on this machine
    note: str = ""  # why it is skipped, or what it is
    tolerance: float | None = None  # relative agreement with the reference; None: the workload's


@dataclasses.dataclass
class Target:
    """``contender`` must take at most ``max_ratio`` times the time of ``baseline``."""

    contender: str
    baseline: str
    max_ratio: float


@dataclasses.dataclass
class TimingWorkload:
    key: str  # "W1"
    title: str
    unit: str  # what one unit of work is: "epoch", "iteration"
    units: int  # units in one repeat
    chunk: int  # units each contender runs before the next takes its turn
    contenders: list[Contender]
    targets: list[Target]
    reference: str = "numpy"  # the contender every ratio in the table is taken against
    exact: tuple[str, ...] = ()  # contenders whose result must equal the reference's bit for bit
    tolerance: float = 1e-9  # relative agreement expected of the others' results


def optional_torch(threads: int) -> tuple[Any, str]:
    """``(torch, "")`` when torch imports, else ``(None, why)``; pins its thread count."""
    try:
        import torch
    except ImportError:
        return None, "skipped: torch is not installed (pip install torch==2.13.0)"
    torch.set_num_threads(threads)
    return torch, ""
