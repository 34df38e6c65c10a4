"""Many runs at once: several seeds of one roll, a whole class roster (`lab.roster`), a study's
seeds or a class's submissions, on any ``concurrent.futures.Executor`` (a local process pool by
default, or a Dask cluster); and one figure's distribution over the runs."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np


class SweepError(ValueError):
    """A bad seed range, roster or scheduler: one line saying what was wrong."""


class DuplicateWarning(UserWarning):
    """A roll or seed given more than once: it runs once (the command line says so)."""


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
    fn: Callable[[Any], Any] | None = None,
) -> list[Any]:
    """``fn(run)`` for every run, in order, on ``executor`` (a local process pool of ``workers``
    processes when None), with a progress bar. A run is a `LabRun`, or anything ``fn`` takes
    that pickles (the audit's submissions); ``fn`` must pickle too (a module-level function, or
    a ``functools.partial`` of one).

    One Ctrl-C stops it: the local pool's workers ignore SIGINT (the terminal sends it to the
    whole process group), and the parent, on its KeyboardInterrupt, terminates them instead of
    waiting for the runs in progress; an executor's pending runs are cancelled. ``fn`` is
    `compute_lab` when None."""
    if fn is None:
        from tinygrad_lab.lab.stress.compute import compute_lab as fn
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
