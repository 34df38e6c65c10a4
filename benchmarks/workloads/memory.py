"""W5: 10,000 training steps of W1's network; the peak memory must not grow with the step count.

Memory is traced with ``tracemalloc`` (every Python object and every NumPy buffer), its peak reset
when training starts, and read at several step counts. A graph left alive from step to step, or
records kept without bound, would show as a peak that climbs with the steps. The recorder is
measured bounded (``max_records``), as a long run should use it: unbounded, its records are the
point and grow by design (about 6 KB a step on this network, see README.md).
"""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

from tinygrad_lab.lab.rules import lab_config

from .mlp import LabLoop, NotebookNumpy, Spec, lab_data


@dataclasses.dataclass
class MemoryWorkload:
    key: str
    title: str
    checkpoints: tuple[int, ...]  # step counts at which memory is read
    contenders: dict[str, Callable[[], Any]]  # name -> prepare() -> runner with run(units)
    bounded: tuple[str, ...]  # contenders whose peak must not grow
    max_growth: float = 0.02  # allowed relative rise of the peak from the first checkpoint


def w5(quick: bool, threads: int) -> MemoryWorkload:
    config = lab_config("102303346")
    n = 40 if quick else config.n_samples
    X, y = lab_data(n)
    spec = Spec(X, y, config.layer_sizes, config.init_range, config.learning_rate)
    checkpoints = (50, 100, 200) if quick else (1_000, 2_500, 5_000, 10_000)
    keep = 10 * 64 if quick else 10_000  # records kept by the bounded recorder

    def recorder(max_records: int) -> Callable[[], Any]:
        def prepare() -> LabLoop:
            loop = LabLoop(spec, False, config)
            loop.recorder = _recorder(loop.model, max_records)
            loop.losses = _Last()  # the loss curve itself would grow: keep the last one only
            return loop

        return prepare

    def plain(cls: Any) -> Callable[[], Any]:
        def prepare() -> Any:
            loop = cls(spec) if cls is NotebookNumpy else cls(spec, False, config)
            loop.losses = _Last()
            return loop

        return prepare

    return MemoryWorkload(
        key="W5",
        title=f"{checkpoints[-1]:,} training steps of W1's network (N={n}), traced peak memory",
        checkpoints=checkpoints,
        contenders={
            "numpy": plain(NotebookNumpy),
            "tinygrad_lab": plain(LabLoop),
            f"tinygrad_lab + recorder (max_records={keep:,})": recorder(keep),
        },
        bounded=(
            "numpy",
            "tinygrad_lab",
            f"tinygrad_lab + recorder (max_records={keep:,})",
        ),
    )


def _recorder(model: Any, max_records: int) -> Any:
    from tinygrad_lab import nn

    return nn.GradientRecorder(model, max_records=max_records)


class _Last(list):
    """A list that keeps only its last item (for a loss history that must not grow)."""

    def append(self, item: Any) -> None:
        self[:] = [item]


def run_memory(workload: MemoryWorkload, log: Any) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, prepare in workload.contenders.items():
        gc.collect()
        tracemalloc.start()
        try:
            runner = prepare()
            runner.run(1)  # warm up: first-step buffers and caches are not growth
            gc.collect()
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            done, rows = 1, {}
            for steps in workload.checkpoints:
                while done < steps:  # small chunks: the NumPy loop's per-call loss list stays small
                    runner.run(min(50, steps - done))
                    done = min(done + 50, steps)
                current, peak = tracemalloc.get_traced_memory()
                rows[steps] = {"current_bytes": current - base, "peak_bytes": peak - base}
        finally:
            tracemalloc.stop()
            runner = None
        first, last = rows[workload.checkpoints[0]], rows[workload.checkpoints[-1]]
        growth = (last["peak_bytes"] - first["peak_bytes"]) / max(first["peak_bytes"], 1)
        per_step = (last["current_bytes"] - first["current_bytes"]) / (
            workload.checkpoints[-1] - workload.checkpoints[0]
        )
        results[name] = {
            "by_steps": rows,
            "peak_growth": growth,
            "retained_bytes_per_step": per_step,
            "bounded": name in workload.bounded,
        }
        log(f"  {workload.key} {name}: peak growth {growth:+.1%}")
    return results
