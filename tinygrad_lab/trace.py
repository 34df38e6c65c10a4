"""Watch backprop happen: a trace of every node backward visits, and the memory a forward pass
keeps for backward.

    with tl.trace_backward(model) as trace:
        loss = loss_fn(model(X), y)   # forward inside: each node learns its layer and code line
        loss.backward()
    print(trace)

For the lab's network the trace reads like the notebook's backward loop: the loss first, then the
output layer, then each hidden layer down to the first. Outside a trace nothing is recorded: the
engine only checks one flag per op and one per backward node.

A ``create_graph=True`` backward records what each node's backward computes: the trace keeps, for
each node, the ops its backward made (``trace.recorded``, printed below the table), and in a later
backward a node made that way reads "Mul (backward of Pow)".
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from typing import Any

import numpy as np

from tinygrad_lab.display import fixed_width_table, markdown_table, norm, shape_text, to_pandas
from tinygrad_lab.grad_mode import no_grad, observe_backward, record_sites
from tinygrad_lab.graph import nodes
from tinygrad_lab.nn.module import Module
from tinygrad_lab.tensor import Function, Tensor


def module_labels(model: Module | None) -> dict[int, str]:
    """``{id(module): "3:Linear"}`` for every module of ``model`` (names as named_modules)."""
    if model is None:
        return {}
    return {
        id(m): f"{name}:{type(m).__name__}" if name else type(m).__name__
        for name, m in model.named_modules()
    }


def _label(module: Any, labels: dict[int, str]) -> str:
    if module is None:
        return ""
    return labels.get(id(module), type(module).__name__)


@dataclass
class TraceRow:
    """One node as backward visited it."""

    order: int  # 1 for the first node backward visited
    op: str
    layer: str  # the Module whose forward created the op ("" outside any; "0:LSTM t=3" at a
    # recurrent layer's time step 3)
    site: str  # file:line of the user code that created it ("?" if made outside the trace)
    input_shapes: str
    output_shape: str
    grad_in_norm: float  # norm of the gradient arriving at the node's output
    grad_out_norms: str  # norm of each gradient it sends to its inputs ("—" where none)
    saved_bytes: int  # bytes of arrays it kept from forward for this backward


class BackwardTrace:
    """The rows of one or more backward passes; print it, or take ``rows()``, ``to_csv``,
    ``to_pandas()``; pass it to ``draw_graph(..., trace=trace)`` to number nodes by visit."""

    def __init__(self, model: Module | None = None) -> None:
        self.model = model
        self._labels = module_labels(model)
        self.records: list[TraceRow] = []
        self.visit_order: dict[int, int] = {}  # id(ctx) -> order, for draw_graph
        self.recorded: dict[int, list[str]] = {}  # order -> the ops its recorded backward made
        self.time_steps: dict[int, int] = {}  # id(op) -> t, for the ops of a recurrent layer

    def _observe(self, node: Tensor, ctx: Function, grad: np.ndarray, input_grads: tuple) -> None:
        order = len(self.records) + 1
        self.visit_order[id(ctx)] = order
        made = recorded_ops(ctx, input_grads)
        if made:
            self.recorded[order] = made
        made_by = getattr(ctx, "backward_of", None)  # the op whose recorded backward made it
        unrolled = getattr(ctx, "unrolled", None)  # a recurrent layer's output: backward
        if unrolled is not None:  # reaches it before the ops of its time steps
            self.time_steps.update(unrolled.time_step_of)
        layer = _label(ctx.module, self._labels)
        if id(ctx) in self.time_steps:
            layer = f"{layer} t={self.time_steps[id(ctx)]}".lstrip()
        self.records.append(
            TraceRow(
                order=order,
                op=ctx.name if made_by is None else f"{ctx.name} (backward of {made_by.name})",
                layer=layer,
                site=ctx.site or "?",
                input_shapes=", ".join(shape_text(p.shape) for p in ctx.parents),
                output_shape=shape_text(node.shape),
                grad_in_norm=norm(grad),
                grad_out_norms=", ".join(
                    "—" if g is None or not p.requires_grad else f"{norm(g):.3g}"
                    for p, g in zip(ctx.parents, input_grads, strict=True)
                ),
                saved_bytes=ctx.saved_nbytes(),
            )
        )

    # ----------------------------------------------------------------------------- views
    @property
    def total_saved_bytes(self) -> int:
        return sum(r.saved_bytes for r in self.records)

    def rows(self) -> list[tuple]:
        """Header row, then one tuple a node (for CSV or any table)."""
        return [tuple(f.name for f in fields(TraceRow))] + [astuple(r) for r in self.records]

    def to_csv(self, path: Any) -> None:
        with open(path, "w", newline="") as handle:
            csv.writer(handle).writerows(self.rows())

    def to_pandas(self) -> Any:
        header, *body = self.rows()
        return to_pandas(body, header, "BackwardTrace.to_pandas")

    def __len__(self) -> int:
        return len(self.records)

    def __str__(self) -> str:
        header, *body = self.rows()
        table = fixed_width_table(header, body, fmt=_cell)
        text = (
            f"{table}\n{len(body)} nodes; {self.total_saved_bytes:,} bytes were saved for backward"
        )
        if self.recorded:  # a create_graph=True backward: the gradient graph it built
            ops = (
                f"#{order} {self.records[order - 1].op}: {', '.join(made)}"
                for order, made in self.recorded.items()
            )
            text += (
                "\nrecorded by create_graph=True (each node's backward made):\n  "
                + "\n  ".join(ops)
            )
        return text

    def __repr__(self) -> str:
        return f"BackwardTrace({len(self.records)} nodes)"

    def _repr_markdown_(self) -> str:
        header, *body = self.rows()
        return markdown_table(header, body)


def recorded_ops(ctx: Function, input_grads: tuple) -> list[str]:
    """The names of the ops ``ctx``'s backward recorded (``create_graph=True``), in the order
    it made them; [] after an ordinary backward (arrays, nothing recorded)."""
    made: dict[int, Function] = {}
    stack = [g._ctx for g in input_grads if isinstance(g, Tensor) and g._ctx is not None]
    while stack:
        op = stack.pop()
        if id(op) in made or getattr(op, "backward_of", None) is not ctx:
            continue
        made[id(op)] = op
        stack.extend(p._ctx for p in op.parents if p._ctx is not None)
    return [op.name for op in sorted(made.values(), key=lambda op: op.seq)]


def _cell(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@contextlib.contextmanager
def trace_backward(model: Module | None = None) -> Iterator[BackwardTrace]:
    """Record every node each backward inside visits (see the module docstring). Ops created
    inside also record their layer and code line; give ``model`` to name layers as ``3:Linear``."""
    trace = BackwardTrace(model)
    with observe_backward(trace._observe), record_sites():
        yield trace


def saved_memory(output: Tensor, model: Module | None = None) -> dict[str, int]:
    """Bytes each layer's ops saved for backward in the graph that produced ``output`` (``""``
    for ops outside any module). Layers are known for ops created under ``record_sites()``."""
    labels = module_labels(model)
    totals: dict[str, int] = {}
    for ctx in nodes(output):
        label = _label(ctx.module, labels)
        totals[label] = totals.get(label, 0) + ctx.saved_nbytes()
    return totals


def memory_by_layer(model: Module, *inputs: Any) -> dict[str, Any]:
    """One forward pass of ``model`` with gradients on: the bytes each layer saves for backward,
    in layer order, their total, and what the same pass keeps under ``no_grad`` (nothing)."""
    with record_sites():
        output = model(*inputs)
    per_layer = saved_memory(output, model)
    order = list(module_labels(model).values())
    per_layer = {k: per_layer[k] for k in order if k in per_layer} | {
        k: v for k, v in per_layer.items() if k not in order
    }
    with no_grad():
        inference = model(*inputs)
    return {
        "per_layer": per_layer,
        "total": sum(per_layer.values()),
        "no_grad_total": sum(saved_memory(inference, model).values()),
    }
