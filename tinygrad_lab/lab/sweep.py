"""Many runs at once: several seeds of one roll, or a whole class roster, on any
``concurrent.futures.Executor`` (a local process pool by default, or a Dask cluster)."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_lab.lab.compute import compute_lab
from tinygrad_lab.lab.rules import RollNumberError, parse_roll


class SweepError(ValueError):
    """A bad seed range, roster or scheduler: one line saying what was wrong."""


def parse_seeds(text: str) -> list[int]:
    """``"0-49"``, ``"7"`` or ``"1,5,9"`` (ranges inclusive) as a list of seeds."""
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
    return seeds


def read_roster(path: str | Path) -> list[str]:
    """Roll numbers from a CSV file, one a row (first column); a header row is allowed."""
    try:
        with open(path, newline="") as handle:
            rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    except OSError as err:
        raise SweepError(f"cannot read roster {path}: {err.strerror or err}") from None
    rolls = []
    for number, row in enumerate(rows, start=1):
        try:
            rolls.append(parse_roll(row[0]))
        except RollNumberError as err:
            if number == 1:  # a header
                continue
            raise SweepError(f"{path}, row {number}: {err}") from None
    if not rolls:
        raise SweepError(f"roster {path} holds no roll number")
    return rolls


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
    tasks: list[dict[str, Any]],
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
    fn: Callable[..., dict[str, Any]] = compute_lab,
) -> list[dict[str, Any]]:
    """``fn(**task)`` for every task, in task order, on ``executor`` (a local process pool of
    ``workers`` processes when None), with a progress bar."""
    own = executor is None
    if own:
        executor = ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)
    try:
        futures = {executor.submit(fn, **task): k for k, task in enumerate(tasks)}
        results: list[Any] = [None] * len(tasks)
        for future in _progress(as_completed(futures), len(tasks), progress):
            results[futures[future]] = future.result()
    finally:
        if own:
            executor.shutdown(cancel_futures=True)
    return results


def _progress(items: Iterable, total: int, enabled: bool) -> Iterable:
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, total=total, unit="run", desc="tinygrad-lab", leave=False)


# ------------------------------------------------------------------------------ summaries
def flatten(results: dict[str, Any], prefix: str = "") -> dict[str, float | None]:
    """Scalar figures of a result as ``{"part_a.run1.gri": value, ...}`` (lists left out)."""
    flat: dict[str, float | None] = {}
    for key, value in results.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            flat[name] = value
    return flat


SUMMARY_SKIP = ("seed", "config.", "part_b.", "q2.weight", "q2.bias")


def summarise(all_results: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and quartiles of every numeric figure over runs, the share of runs in which GRI fell
    after the break, and the share with a dead layer."""
    flats = [flatten(r) for r in all_results]
    keys = [k for k in flats[0] if not k.startswith(SUMMARY_SKIP)]
    distribution = {}
    for key in keys:
        values = np.array([f[key] for f in flats if f.get(key) is not None], dtype=float)
        entry: dict[str, Any] = {"runs": len(flats), "undefined": len(flats) - len(values)}
        if len(values):
            q1, median, q3 = np.percentile(values, [25, 50, 75])
            entry.update(
                median=float(median),
                q1=float(q1),
                q3=float(q3),
                min=float(values.min()),
                max=float(values.max()),
            )
        distribution[key] = entry
    both = [(r["part_a"]["run1"]["gri"], r["part_a"]["run2"]["gri"]) for r in all_results]
    defined = [(g1, g2) for g1, g2 in both if g1 is not None and g2 is not None]
    dead = [
        bool(r["part_a"]["run1"]["dead_layers"] or r["part_a"]["run2"]["dead_layers"])
        for r in all_results
    ]
    return {
        "runs": len(all_results),
        "seeds": [r["seed"] for r in all_results],
        "gri_fell_share": (sum(g2 < g1 for g1, g2 in defined) / len(defined)) if defined else None,
        "gri_defined_runs": len(defined),
        "dead_layer_share": sum(dead) / len(dead),
        "distribution": distribution,
    }
