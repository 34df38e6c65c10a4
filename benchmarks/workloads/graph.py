"""W4: backward through one long chain of element-wise ops (1,000 / 10,000 / 100,000 nodes).
W7: the per-op overhead floor, the same chain on one-element tensors (1,000 nodes), with tensors
as the constants and again with Python numbers (``y = y * 1.0001; y = y + 0.5``, the way users
write code).

The chain alternates ``y = y * c`` and ``y = y + c`` on a 16-element tensor, so the arithmetic
per node is trivial and the time is the engine's own: building a node in forward, ordering the
graph and visiting each node in backward. That cost must be linear in the number of nodes,
i.e. the time per node flat from 1,000 to 100,000 nodes. On one element (W7) nothing is left
but the engine's own price per node, forward and backward, against PyTorch's. With Python
numbers as the constants the engine also turns every number into an operand (tinygrad_lab a
`Tensor`, PyTorch a wrapped-number tensor in C++), which is how most code is written.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from typing import Any

import numpy as np

from tinygrad_lab import Tensor

from .common import optional_torch

WIDTH = 16
NUMBER_MUL, NUMBER_ADD = 1.0001, 0.5  # the Python-number chain's constants
NUMBERS = "Python-number constants"  # the suffix of the contenders that use them


@dataclasses.dataclass
class ChainWorkload:
    key: str
    title: str
    lengths: tuple[int, ...]
    repeats: int
    nodes_per_sample: int  # short chains are run several times a repeat, for as many nodes
    contenders: dict[str, Any]  # name -> chain(length) -> (forward s, backward s), or None
    notes: dict[str, str]
    max_growth: float = 1.5  # largest allowed per-node time ÷ per-node time of the shortest chain
    # one length (the per-op floor): (contender, baseline, what), forward + backward per node
    floor_targets: tuple[tuple[str, str, str], ...] = ()


def lab_chain(length: int, width: int = WIDTH) -> tuple[float, float]:
    x = Tensor(np.ones(width), requires_grad=True)
    c = Tensor(np.full(width, 0.999))
    t0 = time.perf_counter()
    y = x
    for i in range(length):
        y = y * c if i % 2 == 0 else y + c
    t1 = time.perf_counter()
    y.backward(np.ones(width))
    t2 = time.perf_counter()
    if not np.allclose(x.grad, 0.999 ** ((length + 1) // 2)):
        raise AssertionError("tinygrad_lab's chain gradient is wrong")
    return t1 - t0, t2 - t1


def lab_number_chain(length: int, width: int = WIDTH) -> tuple[float, float]:
    """``lab_chain`` with Python floats as the constants: ``y * 1.0001``, ``y + 0.5``."""
    x = Tensor(np.ones(width), requires_grad=True)
    t0 = time.perf_counter()
    y = x
    for i in range(length):
        y = y * NUMBER_MUL if i % 2 == 0 else y + NUMBER_ADD
    t1 = time.perf_counter()
    y.backward(np.ones(width))
    t2 = time.perf_counter()
    if not np.allclose(x.grad, NUMBER_MUL ** ((length + 1) // 2)):
        raise AssertionError("tinygrad_lab's chain gradient (Python-number constants) is wrong")
    return t1 - t0, t2 - t1


def torch_chain(torch: Any, length: int, width: int = WIDTH) -> tuple[float, float]:
    x = torch.ones(width, dtype=torch.float64, requires_grad=True)
    c = torch.full((width,), 0.999, dtype=torch.float64)
    t0 = time.perf_counter()
    y = x
    for i in range(length):
        y = y * c if i % 2 == 0 else y + c
    t1 = time.perf_counter()
    y.backward(torch.ones(width, dtype=torch.float64))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def torch_number_chain(torch: Any, length: int, width: int = WIDTH) -> tuple[float, float]:
    x = torch.ones(width, dtype=torch.float64, requires_grad=True)
    t0 = time.perf_counter()
    y = x
    for i in range(length):
        y = y * NUMBER_MUL if i % 2 == 0 else y + NUMBER_ADD
    t1 = time.perf_counter()
    y.backward(torch.ones(width, dtype=torch.float64))
    t2 = time.perf_counter()
    if not torch.allclose(x.grad, torch.full_like(x, NUMBER_MUL ** ((length + 1) // 2))):
        raise AssertionError("torch's chain gradient (Python-number constants) is wrong")
    return t1 - t0, t2 - t1


def w4(quick: bool, threads: int) -> ChainWorkload:
    torch, why = optional_torch(threads)
    return ChainWorkload(
        key="W4",
        title="backward through a chain of element-wise ops (alternating * c and + c, 16 wide)",
        lengths=(100, 300, 1000) if quick else (1_000, 10_000, 100_000),
        repeats=2 if quick else 3,
        nodes_per_sample=1_000 if quick else 10_000,
        contenders={
            "tinygrad_lab": lab_chain,
            "torch": torch and (lambda length: torch_chain(torch, length)),
        },
        notes={"torch": why},
    )


def w7(quick: bool, threads: int) -> ChainWorkload:
    torch, why = optional_torch(threads)
    return ChainWorkload(
        key="W7",
        title=(
            "the per-op overhead floor: the same chain on one-element tensors, "
            f"constants as tensors and as Python numbers (* {NUMBER_MUL}, + {NUMBER_ADD})"
        ),
        lengths=(100,) if quick else (1_000,),
        repeats=2 if quick else 5,
        nodes_per_sample=1_000 if quick else 20_000,
        contenders={
            "tinygrad_lab": lambda length: lab_chain(length, width=1),
            "torch": torch and (lambda length: torch_chain(torch, length, width=1)),
            f"tinygrad_lab, {NUMBERS}": lambda length: lab_number_chain(length, width=1),
            f"torch, {NUMBERS}": torch
            and (lambda length: torch_number_chain(torch, length, width=1)),
        },
        notes={"torch": why, f"torch, {NUMBERS}": why},
        max_growth=float("inf"),  # one length: there is no growth to bound
        floor_targets=(
            ("tinygrad_lab", "torch", "tinygrad_lab forward + backward per node ≤ 1× torch's"),
            (
                f"tinygrad_lab, {NUMBERS}",
                f"torch, {NUMBERS}",
                f"tinygrad_lab forward + backward per node with {NUMBERS} ≤ 1× torch's"
                " (the same chain)",
            ),
        ),
    )


def run_chains(workload: ChainWorkload, log: Any) -> dict[str, Any]:
    """Median per-node forward and backward seconds for every contender and chain length."""
    samples: dict[str, dict[int, list[tuple[float, float]]]] = {
        name: {n: [] for n in workload.lengths} for name, fn in workload.contenders.items() if fn
    }
    gc.collect()
    gc.freeze()  # what exists now is never scanned again: collections cost what the chain costs
    for repeat in range(workload.repeats):
        for length in workload.lengths:
            for name in samples:
                for _ in range(max(1, workload.nodes_per_sample // length)):
                    samples[name][length].append(workload.contenders[name](length))
        log(f"  {workload.key} repeat {repeat + 1}/{workload.repeats} done")
    results: dict[str, Any] = {}
    for name, by_length in samples.items():
        rows = {}
        for length, pairs in by_length.items():
            rows[length] = {
                "forward_per_node_s": float(np.median([f for f, _ in pairs])) / length,
                "backward_per_node_s": float(np.median([b for _, b in pairs])) / length,
            }
        first = rows[workload.lengths[0]]["backward_per_node_s"]
        growth = max(r["backward_per_node_s"] for r in rows.values()) / first
        results[name] = {"by_length": rows, "backward_growth": growth}
    return results
