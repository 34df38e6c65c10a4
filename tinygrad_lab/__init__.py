"""tinygrad_lab: a tiny define-by-run reverse-mode autodiff framework on NumPy, for learning and
teaching how backpropagation really works.

``import tinygrad_lab`` loads the engine, `nn`, `optim` and `gradcheck`, and needs only NumPy.
The tools load on first use: `viz` (graphviz drawings: ``draw_graph``; the backprop explorer
in the browser: ``explore``), `trace`
(``trace_backward``, ``memory_by_layer``) and `reference` (the course notebook's matrix-form
backprop and ``compare``, the self-check against it).
"""

import importlib
from typing import Any

from tinygrad_lab import autograd, func, nn, optim
from tinygrad_lab.creation import (
    arange,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from tinygrad_lab.grad_mode import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    record_sites,
)
from tinygrad_lab.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygrad_lab.hooks import RemovableHandle
from tinygrad_lab.ops.einsum import einsum
from tinygrad_lab.ops.indexing import where
from tinygrad_lab.ops.movement import cat, concat, concatenate, stack
from tinygrad_lab.serialization import load, save
from tinygrad_lab.tensor import Function, Tensor

__version__ = "0.1.0"  # the one place: setup.cfg reads it (version = attr: ...)

# Loaded on first access (PEP 562): the tool modules, and the functions they provide.
_TOOLS = ("viz", "trace", "reference")
_TOOL_FUNCTIONS = {
    "draw_graph": "viz",
    "explore": "viz",
    "trace_backward": "trace",
    "memory_by_layer": "trace",
    "compare": "reference",
}


def __getattr__(name: str) -> Any:
    if name in _TOOLS:
        return importlib.import_module(f"tinygrad_lab.{name}")
    if name in _TOOL_FUNCTIONS:
        return getattr(importlib.import_module(f"tinygrad_lab.{_TOOL_FUNCTIONS[name]}"), name)
    raise AttributeError(f"module 'tinygrad_lab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_TOOLS) | set(_TOOL_FUNCTIONS))


__all__ = [
    "arange",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "tensor",
    "zeros",
    "zeros_like",
]
__all__ += [
    "Function",
    "autograd",
    "func",
    "gradgradcheck",
    "GradcheckError",
    "RemovableHandle",
    "Tensor",
    "cat",
    "compare",
    "concat",
    "concatenate",
    "detect_anomaly",
    "draw_graph",
    "einsum",
    "enable_grad",
    "explore",
    "gradcheck",
    "is_grad_enabled",
    "load",
    "memory_by_layer",
    "nn",
    "no_grad",
    "optim",
    "record_sites",
    "save",
    "stack",
    "trace_backward",
    "where",
]
