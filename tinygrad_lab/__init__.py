"""tinygrad_lab: a tiny define-by-run reverse-mode autodiff framework on NumPy, for learning and
teaching how backpropagation really works."""

from tinygrad_lab.function import Function  # noqa: I001  (function before tensor: import cycle)
from tinygrad_lab.tensor import (
    RemovableHandle,
    Tensor,
    concatenate,
    detect_anomaly,
    is_grad_enabled,
    no_grad,
    stack,
)
from tinygrad_lab.gradcheck import GradcheckError, gradcheck
from tinygrad_lab import nn, optim
from tinygrad_lab.selfcheck import compare
from tinygrad_lab.trace import memory_by_layer, trace_backward
from tinygrad_lab.viz import draw_graph

__version__ = "0.1.0"

__all__ = [
    "Function",
    "GradcheckError",
    "RemovableHandle",
    "Tensor",
    "compare",
    "concatenate",
    "detect_anomaly",
    "draw_graph",
    "gradcheck",
    "is_grad_enabled",
    "memory_by_layer",
    "nn",
    "no_grad",
    "optim",
    "stack",
    "trace_backward",
]
