"""Many runs at once: several seeds of one roll, or a whole class roster (`lab.roster`), on any
``concurrent.futures.Executor`` (a local process pool by default, or a Dask cluster)."""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import signal
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from tinygrad_lab.lab.stress.analysis import diagnose
from tinygrad_lab.lab.stress.compute import LabResult, compute_lab
from tinygrad_lab.lab.stress.part_a import RUNS


class SweepError(ValueError):
    """A bad seed range, roster or scheduler: one line saying what was wrong."""


class DuplicateWarning(UserWarning):
    """A roll or seed given more than once: it runs once (the command line says so)."""


def parse_seeds(text: str) -> list[int]:
    """``"0-49"``, ``"7"`` or ``"1,5,9"`` (ranges inclusive) as a list of seeds, each once; a
    seed given twice is a `DuplicateWarning`."""
    seeds: list[int] = []
    for part in str(text).split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise SweepError(
                f"bad seed range {text!r}: expected seeds like 0-49, 7 or 1,5,9 "
                "(non-negative whole numbers)"
            )
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if high < low:
            raise SweepError(f"bad seed range {part.strip()!r}: it is reversed ({low} > {high})")
        seeds.extend(range(low, high + 1))
    if not seeds:
        raise SweepError(f"bad seed range {text!r}: it holds no seed")
    once = list(dict.fromkeys(seeds))
    if len(once) < len(seeds):
        repeated = sorted(seed for seed, n in Counter(seeds).items() if n > 1)
        warnings.warn(
            DuplicateWarning(
                f"--seeds {text}: {_listed('seed', repeated)} given more than once; "
                f"each runs once ({len(once)} seeds)"
            ),
            stacklevel=2,
        )
    return once


def _listed(noun: str, items: list[Any]) -> str:
    """``"seed 3"`` or ``"seeds 3, 4"``."""
    return f"{noun}{'s' if len(items) > 1 else ''} {', '.join(map(str, items))}"


def dask_executor(address: str) -> Executor:
    """An Executor running on the Dask scheduler at ``address`` (needs ``dask[distributed]``)."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepError("--scheduler needs Dask: pip install 'tinygrad_lab[dask]'") from None
    try:
        client = Client(address, timeout="5s")
    except (OSError, TimeoutError, ValueError) as err:
        raise SweepError(
            f"cannot reach the Dask scheduler at {address}: "
            f"{str(err).splitlines()[0] if str(err) else type(err).__name__}"
        ) from None
    return client.get_executor()


def run_many(
    runs: list[Any],
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
    fn: Callable[[Any], Any] = compute_lab,
) -> list[Any]:
    """``fn(run)`` for every run, in order, on ``executor`` (a local process pool of ``workers``
    processes when None), with a progress bar. A run is a `LabRun`, or anything ``fn`` takes
    that pickles (the audit's submissions); ``fn`` must pickle too (a module-level function, or
    a ``functools.partial`` of one).

    One Ctrl-C stops it: the local pool's workers ignore SIGINT (the terminal sends it to the
    whole process group), and the parent, on its KeyboardInterrupt, terminates them instead of
    waiting for the runs in progress; an executor's pending runs are cancelled."""
    if executor is None:
        return _on_local_pool(runs, workers or os.cpu_count() or 1, progress, fn)
    futures = {executor.submit(fn, run): k for k, run in enumerate(runs)}
    results: list[Any] = [None] * len(runs)
    try:
        with _progress(len(runs), progress) as advance:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                advance()
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return results


def _ignore_sigint() -> None:
    """A pool worker's initializer: Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _indexed(fn: Callable[[Any], Any], item: tuple[int, Any]) -> tuple[int, Any]:
    return item[0], fn(item[1])


def _on_local_pool(
    runs: list[Any], workers: int, progress: bool, fn: Callable[[Any], Any]
) -> list[Any]:
    """``fn`` over ``runs`` on a process pool that is terminated, not drained, on any
    exception (Ctrl-C, or a run's error)."""
    results: list[Any] = [None] * len(runs)
    pool = multiprocessing.Pool(min(workers, len(runs)), initializer=_ignore_sigint)
    try:
        with _progress(len(runs), progress) as advance:
            for k, result in pool.imap_unordered(partial(_indexed, fn), enumerate(runs)):
                results[k] = result
                advance()
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()
    return results


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    """A function to call once a run is done: a tqdm bar when enabled and installed, closed
    (and cleared) however the runs end."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            enabled = False
    if not enabled:
        yield lambda: None
        return
    with tqdm(total=total, unit="run", desc="tinygrad-lab", leave=False) as bar:
        yield bar.update


# ------------------------------------------------------------------------------ summaries
@dataclass(frozen=True)
class Distribution:
    """One figure over many runs: how many runs, how many left it undefined, and (when any
    defined it) its median, quartiles and range."""

    runs: int
    undefined: int
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    min: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Distribution:
        values = list(values)
        defined = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
        if not len(defined):
            return cls(len(values), len(values))
        q1, median, q3 = np.percentile(defined, [25, 50, 75])
        return cls(
            len(values),
            len(values) - len(defined),
            float(median),
            float(q1),
            float(q3),
            float(defined.min()),
            float(defined.max()),
        )

    def to_json(self) -> dict[str, Any]:
        out = {"runs": self.runs, "undefined": self.undefined}
        if self.median is not None:
            out |= {k: getattr(self, k) for k in ("median", "q1", "q3", "min", "max")}
        return out


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
