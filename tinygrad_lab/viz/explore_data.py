"""What the backprop explorer shows: one backward pass (and the forward before it) of a graph, as
a JSON-ready dict built from a `BackwardTrace` and the tensors' gradients and values.

`recorded(loss, model)` runs that backward itself and leaves everything as it found it: the
graph is kept (``retain_graph=True``) and every ``.grad`` and ``retain_grad`` flag is put back.
`recorded(trace, loss=loss)` takes a backward already recorded under ``trace_backward``, with
``retain_grads(loss)`` called before it so every tensor's gradient is known.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lab.display import norm, shape_text
from tinygrad_lab.graph import nodes as graph_ops
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.nn.rnn import time_steps
from tinygrad_lab.tensor import Function, Tensor
from tinygrad_lab.trace import BackwardTrace, TraceRow, module_labels, trace_backward
from tinygrad_lab.viz.draw import GradScale, ramp_color
from tinygrad_lab.viz.walk import Node, apply_budget, graph_nodes, tensors

HISTOGRAM_BINS = 16
# ColorBrewer Blues for values (forward mode), so they never read as gradients (YlOrRd).
VALUE_RAMP = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
DARK_FILL = 0.7  # above this position on a ramp, labels are white (as in draw_graph)


@dataclass
class Recorded:
    """One backward through ``loss``: its trace, and every tensor's gradient ``{id: array}``."""

    loss: Tensor
    trace: BackwardTrace
    model: Module | None
    grads: dict[int, np.ndarray | None]


# ----------------------------------------------------------------------------- recording
def recorded(loss_or_trace: Any, model: Module | None = None, loss: Any = None) -> Recorded:
    """Check the input and return its backward: run now for a loss, or from a given trace."""
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"explore: model must be a Module or None, got {type(model).__name__}")
    if isinstance(loss_or_trace, BackwardTrace):
        if loss is None:
            raise TypeError(
                "explore: given a BackwardTrace, also pass the loss its backward started from: "
                "explore(trace, loss=loss)"
            )
        check_graph(loss)
        trace = loss_or_trace
        model = trace.model if model is None else model
        grads = _trace_grads(trace, loss)
        _check_layers_known(loss, model)
        return Recorded(loss, trace, model, grads)
    if loss is not None:
        raise TypeError("explore: loss= goes with a BackwardTrace; pass a loss tensor alone")
    check_graph(loss_or_trace)
    _check_not_freed(loss_or_trace)
    _check_layers_known(loss_or_trace, model)
    return _run_backward(loss_or_trace, model)


def check_graph(loss: Any) -> None:
    """A one-element tensor made by ops with a graph under it, or a one-line error saying why."""
    if not isinstance(loss, Tensor):
        raise TypeError(
            f"explore: expected a loss Tensor or a BackwardTrace, got {type(loss).__name__}"
        )
    if loss._ctx is None and loss.requires_grad:
        raise ValueError(
            "explore: this tensor is a leaf (no op made it), so it has no graph to step "
            "through: pass the loss computed from it"
        )
    if loss._ctx is None:
        raise ValueError(
            "explore: this tensor has no graph: it was made under no_grad(), or from tensors "
            "none of which has requires_grad=True"
        )
    if loss.size != 1:
        raise ValueError(
            f"explore: backward starts from a one-element loss; this tensor has shape "
            f"{loss.shape} (reduce it first, e.g. with .mean())"
        )


def _check_not_freed(loss: Tensor) -> None:
    freed = next((ctx for ctx in graph_ops(loss) if ctx.released), None)
    if freed is not None:
        raise RuntimeError(
            f"explore: the graph under this loss was already freed by a backward() (the arrays "
            f"{freed.name} saved are gone): call explore(loss) before loss.backward(), or pass "
            "retain_graph=True to that backward()"
        )


def _check_layers_known(loss: Tensor, model: Module | None) -> None:
    if model is None or not list(model.named_children()):
        return
    if all(ctx.module is None for ctx in graph_ops(loss)):
        raise ValueError(
            "explore: model= names the layers, but no op knows which layer made it: run the "
            "forward pass inside `with tinygrad_lab.record_sites():`"
        )


def _run_backward(loss: Tensor, model: Module | None) -> Recorded:
    """Backward under a trace, every gradient kept; then each tensor's ``.grad`` and
    ``retain_grad`` flag as they were, and the graph still there."""
    graph = list(tensors(loss))
    before = [(t, t.grad, t._retains_grad) for t in graph]
    try:
        for t in graph:
            t.grad = None
            t._retains_grad = t._retains_grad or (t._ctx is not None and t.requires_grad)
        with trace_backward(model) as trace:
            loss.backward(retain_graph=True)
        grads = {id(t): t.grad for t in graph}
    finally:
        for t, grad, retains in before:
            t.grad, t._retains_grad = grad, retains
    return Recorded(loss, trace, model, grads)


def _trace_grads(trace: BackwardTrace, loss: Tensor) -> dict[int, np.ndarray | None]:
    for ctx in graph_ops(loss):
        order = trace.visit_order.get(id(ctx))
        if order is None or trace.records[order - 1].op != ctx.name:
            raise ValueError(
                f"explore: this trace recorded no backward through this loss (no visit of its "
                f"{ctx.name} node): call loss.backward() inside `with trace_backward() as trace:`"
            )
    graph = list(tensors(loss))
    if any(t._ctx is not None and t.grad is None for t in graph):
        raise ValueError(
            "explore: the graph's inner tensors kept no gradient: call "
            "tinygrad_lab.viz.retain_grads(loss) before loss.backward() (or pass the loss "
            "alone: explore(loss) runs that backward itself)"
        )
    return {id(t): t.grad for t in graph}


# ----------------------------------------------------------------------------- the payload
def explorer_data(rec: Recorded, max_nodes: int, made_at: str | None = None) -> dict[str, Any]:
    """The page's data: tensors and ops by drawn id, backward's and forward's order of ops,
    the ops' source code, and the colour legends. ``made_at``, when given, is every op's
    ``site`` (and the start's) in place of its code line."""
    nodes, edges = graph_nodes(rec.loss)
    shown = {node.id for node in apply_budget(nodes, edges, max_nodes)[0]}
    ops = _op_entries(nodes, rec, shown, made_at)
    backward = sorted((o for o in ops.values() if o["backward_step"]), key=_step("backward"))
    forward = sorted(ops.values(), key=_step("forward"))
    arrivals = (_gradient_arrival(backward), _value_arrival(nodes, ops))
    names = {id(p): n for n, p in rec.model.named_parameters()} if rec.model else {}
    tensor_nodes = [n for n in nodes if n.kind == "tensor"]
    grad_scale = GradScale.of(
        norm(rec.grads[id(n.obj)]) for n in tensor_nodes if _has_grad(rec, n) and n.id in shown
    )
    value_scale = GradScale.of(norm(n.obj.data) for n in tensor_nodes if n.id in shown)
    tensor_entries = {
        n.id: _tensor_entry(n, rec, names, shown, arrivals, (grad_scale, value_scale))
        for n in tensor_nodes
    }
    return {
        "meta": {
            "steps": len(backward),
            "forward_steps": len(forward),
            "saved_bytes": sum(o["saved_bytes"] for o in ops.values()),
            "loss": _number(float(rec.loss.data.reshape(()))),
            "sites_recorded": any(n.obj.site for n in nodes if n.kind == "op"),
            "hidden_nodes": sum(node.id not in shown for node in nodes),
            "max_nodes": max_nodes,
            "made_at": made_at,
        },
        "tensors": tensor_entries,
        "ops": ops,
        "backward": [o["id"] for o in backward],
        "forward": [o["id"] for o in forward],
        "sources": _sources(n.obj for n in nodes if n.kind == "op"),
        "legend": {
            "backward": _legend(grad_scale, ramp_color),
            "forward": _legend(value_scale, value_color),
        },
    }


def _step(mode: str) -> Any:
    return lambda op: op[f"{mode}_step"]


def _has_grad(rec: Recorded, node: Node) -> bool:
    return rec.grads.get(id(node.obj)) is not None


def _op_entries(
    nodes: list[Node], rec: Recorded, shown: set[str], made_at: str | None
) -> dict[str, dict]:
    """One entry per op: what it is, where it was made, and what backward's visit of it did."""
    ids = {id(n.obj): n.id for n in nodes}
    outputs = {id(n.obj._ctx): n.id for n in nodes if n.kind == "tensor" and n.obj._ctx}
    labels = module_labels(rec.model)
    op_nodes = [n for n in nodes if n.kind == "op"]
    time_step = time_steps(n.obj for n in op_nodes)  # a recurrent layer's: "LSTM t=3"
    visits = sorted(
        (rec.trace.visit_order[id(n.obj)], n.id)
        for n in op_nodes
        if id(n.obj) in rec.trace.visit_order
    )
    steps = {node_id: k for k, (_, node_id) in enumerate(visits, start=1)}
    entries = {}
    for forward_step, node in enumerate(op_nodes, start=1):
        ctx: Function = node.obj
        record = _record(rec.trace, ctx)
        module = ctx.module
        entries[node.id] = {
            "id": node.id,
            "drawn": node.id if node.id in shown else "more",
            "op": ctx.name,
            "layer": _layer_text(module, labels, time_step.get(id(ctx))),
            "site": made_at or ctx.site or "?",
            "inputs": [ids[id(p)] for p in ctx.parents],
            "output": outputs[id(ctx)],
            "saved_bytes": record.saved_bytes if record else ctx.saved_nbytes(),
            "source": _source_key(type(ctx)),
            "forward_step": forward_step,
            "backward_step": steps.get(node.id),
            "grad_in": _number(record.grad_in_norm) if record else None,
            "grad_out": _sent_norms(record, len(ctx.parents)),
        }
    return entries


def _layer_text(module: Any, labels: dict[int, str], step: tuple[int, int] | None) -> str:
    """The layer that made an op (as the trace names it), with its time step if it has one."""
    layer = "" if module is None else labels.get(id(module), type(module).__name__)
    return layer if step is None else f"{layer} t={step[1]}".lstrip()


def _record(trace: BackwardTrace, ctx: Function) -> TraceRow | None:
    order = trace.visit_order.get(id(ctx))
    return None if order is None else trace.records[order - 1]


def _sent_norms(record: TraceRow | None, inputs: int) -> list[Any]:
    """The norms of the gradients a node sent, as the trace printed them (None: none sent)."""
    if record is None:
        return [None] * inputs
    return [
        None if text == "—" else _number(float(text)) for text in record.grad_out_norms.split(", ")
    ]


def _gradient_arrival(backward: list[dict]) -> dict[str, int]:
    """``{tensor id: step}``: the backward step after which a tensor's gradient is complete,
    the visit of the last op that sent it one; 0 for the loss (seeded with 1 before step 1)."""
    arrival: dict[str, int] = {}
    for op in backward:
        if op["backward_step"] == 1:
            arrival[op["output"]] = 0
        for tensor_id, sent in zip(op["inputs"], op["grad_out"], strict=True):
            if sent is not None:
                arrival[tensor_id] = max(arrival.get(tensor_id, 0), op["backward_step"])
    return arrival


def _value_arrival(nodes: list[Node], ops: dict[str, dict]) -> dict[str, int]:
    """``{tensor id: step}``: the forward step that computed a tensor; 0 for leaves."""
    arrival = {n.id: 0 for n in nodes if n.kind == "tensor" and n.obj._ctx is None}
    arrival.update((op["output"], op["forward_step"]) for op in ops.values())
    return arrival


def _tensor_entry(
    node: Node,
    rec: Recorded,
    names: dict[int, str],
    shown: set[str],
    arrivals: tuple[dict[str, int], dict[str, int]],
    scales: tuple[GradScale, GradScale],
) -> dict[str, Any]:
    """A tensor: its name and kind, its gradient (when backward gave it one) and its value,
    each with the step at which it arrives (``at``)."""
    t: Tensor = node.obj
    grad = rec.grads.get(id(t))
    entry: dict[str, Any] = {
        "id": node.id,
        "drawn": node.id if node.id in shown else "more",
        "name": names.get(id(t)) or t.name or ("output" if t is rec.loss else ""),
        "kind": _kind(t, rec.loss, names),
        "shape": shape_text(t.shape),
        "requires_grad": t.requires_grad,
        "grad": None,
        "value": _colored(t.data, scales[1], value_color) | {"at": arrivals[1][node.id]},
    }
    if grad is not None and node.id in arrivals[0]:
        entry["grad"] = _colored(grad, scales[0], ramp_color) | {"at": arrivals[0][node.id]}
    return entry


def _kind(t: Tensor, root: Tensor, names: dict[int, str]) -> str:
    if t is root:
        return "output"
    if isinstance(t, Parameter) or id(t) in names:
        return "parameter"
    return "leaf" if t._ctx is None else "tensor"


def _colored(array: np.ndarray, scale: GradScale, color: Any) -> dict[str, Any]:
    """An array's norm, its colour and label colour on ``scale``, and its histogram."""
    size = norm(array)
    dark = scale.position(size) > DARK_FILL
    return {
        "norm": _number(size),
        "color": color(scale.position(size)),
        "font": "#ffffff" if dark else "#000000",
        "histogram": histogram(array),
    }


def value_color(position: float) -> str:
    """The colour at ``position`` in [0, 1] along ``VALUE_RAMP``, interpolated in RGB."""
    stops = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in VALUE_RAMP]
    x = min(max(position, 0.0), 1.0) * (len(stops) - 1)
    k = min(int(x), len(stops) - 2)
    rgb = (round(a + (b - a) * (x - k)) for a, b in zip(stops[k], stops[k + 1], strict=True))
    return "#" + "".join(f"{v:02x}" for v in rgb)


def histogram(array: np.ndarray, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """Counts of an array's finite entries in ``bins`` equal bins from its min to its max, with
    min, max, mean and how many entries were NaN or infinite."""
    flat = np.asarray(array, dtype=np.float64).ravel()
    finite = flat[np.isfinite(flat)]
    out: dict[str, Any] = {"size": int(flat.size), "nonfinite": int(flat.size - finite.size)}
    if finite.size == 0:
        return out | {"counts": [], "min": None, "max": None, "mean": None}
    low, high = float(finite.min()), float(finite.max())
    with np.errstate(over="ignore", invalid="ignore"):  # a width past the largest float
        edges = np.linspace(low, high, bins + 1)  # as np.histogram makes them
    if np.all(edges[:-1] < edges[1:]):
        counts = np.histogram(finite, bins, (low, high))[0]
    else:  # equal, too few floats apart, or too far apart for `bins` bins: numpy refuses
        counts = [int(finite.size)]
    with np.errstate(over="ignore"):
        mean = float(finite.mean())
    if not math.isfinite(mean):  # the sum overflowed; the mean of finite entries is finite
        scale = max(abs(low), abs(high))
        mean = float((finite / scale).mean() * scale)
    mean = min(max(mean, low), high)  # (rounding can put the mean of equal values an ulp out)
    return out | {"counts": [int(c) for c in counts], "min": low, "max": high, "mean": mean}


def _legend(scale: GradScale, color: Any) -> list[list[str]]:
    """Five swatches of a colour scale with the norm each stands for (as draw_graph's legend)."""
    return [[color(k / 4), f"{scale.norm_at(k / 4):.1e}"] for k in range(5)]


def _source_key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _sources(ops: Iterable[Function]) -> dict[str, dict[str, str]]:
    """``{op class: {"forward": source, "backward": source}}``, from ``inspect.getsource``."""
    out: dict[str, dict[str, str]] = {}
    for ctx in ops:
        cls = type(ctx)
        key = _source_key(cls)
        if key not in out:
            out[key] = {name: _source_of(cls, name) for name in ("forward", "backward")}
    return out


def _source_of(cls: type, name: str) -> str:
    try:
        return textwrap.dedent(inspect.getsource(getattr(cls, name)))
    except (OSError, TypeError):
        return (
            f"# the source of {cls.__qualname__}.{name} is not available (defined interactively?)"
        )


def _number(value: float) -> float | str:
    """A float for JSON: finite as it is; NaN and ±inf as the strings "nan", "inf", "-inf"."""
    return value if math.isfinite(value) else str(value)
