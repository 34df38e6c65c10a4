"""The benchmark's workloads W1-W9 and the harness that times them (see benchmarks/README.md)."""

from .conv import w3
from .digits import w6
from .graph import run_chains, w4, w7
from .hessian import run_second_order, second_order_targets, w8
from .lstm import w9
from .memory import run_memory, w5
from .mlp import w1, w2

TIMING = {"W1": w1, "W2": w2, "W3": w3, "W6": w6, "W9": w9}
CHAINS = {"W4": w4, "W7": w7}
MEMORY = {"W5": w5}
SECOND_ORDER = {"W8": w8}
ALL = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9")

__all__ = [
    "ALL",
    "CHAINS",
    "MEMORY",
    "SECOND_ORDER",
    "TIMING",
    "run_chains",
    "run_memory",
    "run_second_order",
    "second_order_targets",
]
