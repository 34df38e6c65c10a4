"""Where a node was made, and what anomaly mode checks: the engine's bookkeeping that runs only
while some mode is on (``record_sites()``, traces, ``detect_anomaly()``, backward observers).

The engine enters this module from two places: ``Function.apply`` calls `note_site` for each
new node, and backward calls `observe_before` and `observe` around each node's backward.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from tinygrad_lab.grad_mode import state
from tinygrad_lab.integrity import check_checksums, checksum

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def note_site(ctx: Any, out: np.ndarray) -> None:
    """Where the node was made (user code line, innermost Module); in anomaly mode, also check
    its result and checksum what it saved."""
    ctx.site = user_site()
    ctx.module = state.module_stack[-1] if state.module_stack else None
    if state.anomaly:
        check_finite(out, ctx, "forward result")
        ctx._checksums = [checksum(a) for a in ctx.saved_tensors]


def observe_before(ctx: Any) -> None:
    """Before a node's backward, in anomaly mode: nothing it saved was changed behind our back."""
    check_checksums(ctx)


def observe(node: Any, ctx: Any, grad: np.ndarray, input_grads: tuple) -> None:
    """After a node's backward: anomaly mode's finiteness check, then the observers (traces)."""
    if state.anomaly:
        for input_grad in input_grads:
            if input_grad is not None:
                check_finite(np.asarray(input_grad), ctx, "backward gradient")
    for observer in state.backward_observers:
        observer(node, ctx, grad, input_grads)


def check_finite(array: np.ndarray, ctx: Any, what: str) -> None:
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = "NaN" if np.isnan(array).any() else "inf"
        raise RuntimeError(
            f"detect_anomaly: {ctx.name} produced {bad} in its {what} "
            f"(op created at {ctx.site or '<unknown>'})"
        )


def user_site() -> str:
    """The ``file:line`` of the innermost caller outside tinygrad_lab (where the user wrote it);
    in a notebook, ``cell N:line`` (N the cell's execution count)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    filename = frame.f_code.co_filename
    cell = _notebook_cell(filename)
    where = f"cell {cell}" if cell is not None else os.path.basename(filename)
    return f"{where}:{frame.f_lineno}"


def _notebook_cell(filename: str) -> int | None:
    """The execution count of the notebook cell IPython compiled as ``filename``, if any (its
    code has a temporary file name such as ``/tmp/ipykernel_42/123.py``)."""
    ipython = sys.modules.get("IPython")  # only if running: never imported here
    shell = ipython.get_ipython() if ipython is not None else None
    cells = getattr(getattr(shell, "compile", None), "_filename_map", None)
    return cells.get(filename) if isinstance(cells, dict) else None
