"""`draw_graph`: the graph that produced a tensor as a ``graphviz.Digraph``.

Tensors are boxes (parameters with a blue border, leaves dashed, the output doubled), ops are
grey ovals, edges run in data-flow order. With ``grads=True`` every tensor's fill shows its
gradient norm on a log scale from pale (vanishing) to dark red (largest), so a vanishing gradient
reads as a graph fading towards its inputs. The graph of a gradient that
``backward(create_graph=True)`` built is drawn apart from the forward graph, one cluster
"backward of <op>" per op whose backward made its nodes (`walk.mark_gradient`). A recurrent
layer's sequence is drawn unrolled: one cluster "t = 1", "t = 2", ... per time step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import graphviz

from tinygrad_lab.display import norm, shape_text
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.tensor import Tensor
from tinygrad_lab.viz.walk import (
    Node,
    apply_budget,
    assign_layers,
    assign_time_steps,
    collapse_layers,
    graph_nodes,
    mark_gradient,
)

# ColorBrewer YlOrRd: luminance falls monotonically from the first colour to the last.
GRAD_RAMP = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")
VALUES_MAX_SIZE = 100_000  # values=True summarises tensors up to this many elements
DEFAULT_MAX_NODES = 300
RANKDIRS = ("TB", "LR", "BT", "RL")
GRADIENT_COLOR = "#b2182b"  # the border and title of the gradient graph's clusters
TIME_STEP_COLOR = "#2b7a78"  # the border and title of a recurrent layer's time-step clusters

_STYLE = {
    "op": dict(shape="ellipse", style="filled", fillcolor="#e6e6e6", color="#8c8c8c"),
    "tensor": dict(shape="box", style="filled", fillcolor="#ffffff", color="#595959"),
    "leaf": dict(shape="box", style="filled,dashed", fillcolor="#f0f0f0", color="#595959"),
    "parameter": dict(
        shape="box", style="filled", fillcolor="#dbe8f7", color="#1f5fa8", penwidth="2"
    ),
    "output": dict(
        shape="box", style="filled", fillcolor="#fde0c5", color="#000000", peripheries="2"
    ),
    "layer": dict(shape="box3d", style="filled", fillcolor="#ece7f5", color="#5b4a8a"),
    "more": dict(shape="box", style="dashed,rounded", color="#8c8c8c", fontcolor="#595959"),
}


@dataclass(frozen=True)
class GradScale:
    """Gradient norm → colour on a log scale between the smallest and largest positive norm."""

    low: float
    high: float

    @classmethod
    def of(cls, norms: Iterable[float]) -> GradScale:
        positive = [n for n in norms if n > 0 and math.isfinite(n)]
        if not positive:
            return cls(1.0, 1.0)
        return cls(min(positive), max(positive))

    def position(self, norm: float) -> float:
        """0 for the smallest norm (and for 0), 1 for the largest; linear in log(norm)."""
        if not math.isfinite(norm):
            return 1.0
        if norm <= 0:
            return 0.0
        if self.high <= self.low:
            return 1.0
        t = math.log(norm / self.low) / math.log(self.high / self.low)
        return min(max(t, 0.0), 1.0)

    def color(self, norm: float) -> str:
        return ramp_color(self.position(norm))

    def norm_at(self, position: float) -> float:
        return self.low * (self.high / self.low) ** position


def ramp_color(t: float) -> str:
    """The colour at ``t`` in [0, 1] along ``GRAD_RAMP``, interpolated in RGB."""
    stops = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in GRAD_RAMP]
    x = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    k = min(int(x), len(stops) - 2)
    frac = x - k
    rgb = (round(a + (b - a) * frac) for a, b in zip(stops[k], stops[k + 1], strict=True))
    return "#" + "".join(f"{v:02x}" for v in rgb)


def grad_norm(tensor: Tensor) -> float | None:
    """Frobenius norm of ``tensor.grad``, or None when it has none."""
    return None if tensor.grad is None else norm(tensor.grad)


def draw_graph(
    tensor: Tensor,
    model: Module | None = None,
    *,
    grads: bool = False,
    values: bool = False,
    layers: bool = False,
    collapse: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
    trace: Mapping[Any, int] | None = None,
    rankdir: str = "TB",
) -> graphviz.Digraph:
    """The graph that produced ``tensor``: op nodes, tensor nodes, edges in data-flow order.

    - ``model``: names parameters by ``named_parameters()`` (``3.weight (12×12)``);
    - ``grads``: each tensor's gradient norm, coloured on a log scale (run backward first;
      ``retain_grads(tensor)`` before it keeps the non-leaf gradients too);
    - ``values``: min/max/mean of tensors up to ``VALUES_MAX_SIZE`` elements;
    - ``layers``: one cluster per child of ``model`` (the forward must have run inside
      ``record_sites()``); ``collapse``: one node per layer instead;
    - ``max_nodes``: beyond it, the middle of the graph becomes one "…N more" node;
    - ``trace``: a ``BackwardTrace`` (nodes numbered in the order backward visited them), or
      any ``{op, tensor or its id(): number}``; numbered nodes get a ``#n`` prefix;
    - ``rankdir``: graphviz direction, ``"TB"`` (top to bottom) or ``"LR"``, ...

    A gradient made with ``create_graph=True`` is drawn in a cluster "gradient graph", apart
    from the cluster "forward graph"; in it, what each op's backward recorded is in a cluster
    "backward of <op>" (numbered in forward order when several ops share a name).
    """
    trace = getattr(trace, "visit_order", trace)  # a BackwardTrace numbers its visits
    _check_options(tensor, model, layers or collapse, max_nodes, trace, rankdir)
    nodes, edges, children = _shown(tensor, model, grads, layers, collapse, max_nodes)
    names = {id(p): name for name, p in model.named_parameters()} if model is not None else {}
    labeler = _Labeler(tensor, names, grads, values, trace)
    scale = GradScale.of(n for n in map(labeler.norm, nodes) if n is not None)
    graph = graphviz.Digraph(
        "tinygrad_lab",
        # ordering=in keeps each op's inputs left to right in argument order
        graph_attr=dict(
            rankdir=rankdir, ordering="in", fontname="Helvetica", nodesep="0.25", ranksep="0.3"
        ),
        node_attr=dict(fontname="Helvetica", fontsize="10", height="0.3"),
        edge_attr=dict(color="#595959", arrowsize="0.6"),
    )
    _declare(graph, nodes, children, labeler, scale)
    for src, dst in edges:
        graph.edge(src.id, dst.id)
    if grads:
        graph.attr(label=_legend(scale), labelloc="b", labeljust="l")
    return graph


def _shown(
    tensor: Tensor, model: Any, grads: bool, layers: bool, collapse: bool, max_nodes: int
) -> tuple[list[Node], list[tuple[Node, Node]], list[tuple[str, Module]]]:
    """The nodes and edges to draw (layers assigned, collapsed, within the budget), and the
    model's children that the layer view clusters by."""
    nodes, edges = graph_nodes(tensor)
    mark_gradient(nodes)
    assign_time_steps(nodes)
    if grads and not any(n.kind == "tensor" and n.obj.grad is not None for n in nodes):
        raise ValueError(
            "draw_graph: grads=True, but no tensor of the graph has a gradient: call backward() "
            "first (and retain_grads(tensor) before it to keep the non-leaf gradients)"
        )
    children: list[tuple[str, Module]] = []
    if layers or collapse:
        children = assign_layers(nodes, model)
    if collapse:
        nodes, edges = collapse_layers(nodes, edges, children)
    nodes, edges = apply_budget(nodes, edges, max_nodes)
    return nodes, edges, children


def _declare(
    graph: graphviz.Digraph,
    nodes: list[Node],
    children: list[tuple[str, Module]],
    labeler: _Labeler,
    scale: GradScale,
) -> None:
    """Declare every node. When a ``create_graph=True`` backward built part of the graph, the
    forward graph and the gradient graph are two clusters (in the latter, one cluster per
    forward op whose backward made the nodes); leaves stay outside both, next to their op."""
    beside = _side_inputs(nodes)
    if not any(node.gradient for node in nodes):
        _declare_layers(graph, nodes, children, beside, labeler, scale)
        return
    part: dict[int, str] = {}  # id(node) -> "top", "forward" or "gradient"
    for node in nodes:
        top = node.kind == "more" or (node.kind == "tensor" and node.obj._ctx is None)
        part[id(node)] = "top" if top else "gradient" if node.gradient else "forward"
    for node in nodes:  # a leaf drawn beside an op (on its rank) goes where that op goes
        if id(node) in beside:
            part[id(node)] = part[id(beside[id(node)])]
    _emit(graph, [n for n in nodes if part[id(n)] == "top"], beside, labeler, scale)
    forward = [n for n in nodes if part[id(n)] == "forward"]
    if forward:
        with graph.subgraph(name="cluster_forward") as sub:
            sub.attr(label="forward graph", labeljust="l", style="rounded", color="#8c8c8c")
            _declare_layers(sub, forward, children, beside, labeler, scale)
    with graph.subgraph(name="cluster_gradient") as sub:
        sub.attr(label="gradient graph", labeljust="l", style="rounded")
        sub.attr(color=GRADIENT_COLOR, fontcolor=GRADIENT_COLOR)
        gradient = [n for n in nodes if part[id(n)] == "gradient"]
        _declare_backwards(sub, gradient, beside, labeler, scale)


def _declare_backwards(
    graph: graphviz.Digraph,
    nodes: list[Node],
    beside: dict[int, Node],
    labeler: _Labeler,
    scale: GradScale,
) -> None:
    """The gradient graph's nodes: those an op's backward made in a cluster "backward of <op>"
    per forward op, the others (sums of gradients, ...) beside them. Several ops of one name
    are numbered in the order the forward pass made them: "backward of Mul (2)"."""
    groups: dict[int, list[Node]] = {}  # id(forward op) -> the nodes its backward made
    for node in nodes:  # (a leaf drawn beside an op goes where that op goes)
        made_by = beside[id(node)].backward_of if id(node) in beside else node.backward_of
        groups.setdefault(id(made_by), []).append(node)
    _emit(graph, groups.pop(id(None), []), beside, labeler, scale)
    origins = sorted((_made_by(members) for members in groups.values()), key=attrgetter("seq"))
    names = [origin.name for origin in origins]
    for index, origin in enumerate(origins):
        members = groups[id(origin)]
        label = f"backward of {names[index]}"
        if names.count(names[index]) > 1:  # several ops of that name: number them in order
            label += f" ({names[: index + 1].count(names[index])})"
        with graph.subgraph(name=f"cluster_backward_{index}") as sub:
            sub.attr(label=label, labeljust="l", style="dashed,rounded", color=GRADIENT_COLOR)
            sub.attr(fontcolor=GRADIENT_COLOR)
            _emit(sub, members, beside, labeler, scale)


def _made_by(members: list[Node]) -> Any:
    """The forward op whose backward made a group of the gradient graph's nodes."""
    return next(node.backward_of for node in members if node.backward_of is not None)


def _declare_layers(
    graph: graphviz.Digraph,
    nodes: list[Node],
    children: list[tuple[str, Module]],
    beside: dict[int, Node],
    labeler: _Labeler,
    scale: GradScale,
) -> None:
    """Declare ``nodes``: those of a layer inside that layer's cluster, the others at the top."""
    clusters: dict[str, list[Node]] = {name: [] for name, _ in children}
    top: list[Node] = []
    for node in nodes:
        in_cluster = node.layer is not None and node.kind != "layer"
        (clusters[node.layer] if in_cluster else top).append(node)
    if children:  # inputs and the loss, outside the layers: no time step to draw them in
        _emit(graph, top, beside, labeler, scale)
    else:
        _emit_time_steps(graph, top, beside, labeler, scale, "top")
    for index, (name, child) in enumerate(children):
        if not clusters[name]:
            continue
        with graph.subgraph(name=f"cluster_{index}") as sub:
            sub.attr(
                label=f"{type(child).__name__} {name}",
                labeljust="l",
                style="rounded",
                color="#5b4a8a",
                fontcolor="#5b4a8a",
            )
            _emit_time_steps(sub, clusters[name], beside, labeler, scale, str(index))


def _emit_time_steps(
    graph: graphviz.Digraph,
    nodes: list[Node],
    beside: dict[int, Node],
    labeler: _Labeler,
    scale: GradScale,
    prefix: str,
) -> None:
    """Declare ``nodes``: those a recurrent layer made at a time step t in a cluster "t = t"
    of that step (the unrolled sequence, one cell's graph a step), the others as they are."""
    steps: dict[tuple[int, int], list[Node]] = {}
    rest: list[Node] = []
    for node in nodes:  # (a leaf drawn beside an op goes where that op goes)
        step = beside.get(id(node), node).time_step
        (rest if step is None else steps.setdefault(step, [])).append(node)
    _emit(graph, rest, beside, labeler, scale)
    for k, t in sorted(steps):
        with graph.subgraph(name=f"cluster_{prefix}_unrolled{k}_t{t}") as sub:
            sub.attr(label=f"t = {t}", labeljust="l", style="dashed,rounded")
            sub.attr(color=TIME_STEP_COLOR, fontcolor=TIME_STEP_COLOR)
            _emit(sub, steps[k, t], beside, labeler, scale)


def _side_inputs(nodes: list[Node]) -> dict[int, Node]:
    """{id(leaf node): op node}: a leaf whose first use is as a second or later input of an op
    (a layer's weight and bias, a target, a constant) is drawn beside that op, on its rank, so
    the main line of the graph runs straight down instead of in a staircase."""
    shown = {id(n.obj): n for n in nodes if n.kind in ("tensor", "op")}
    beside: dict[int, Node] = {}
    placed: set[int] = set()  # leaves already seen feeding an op: they stay where that put them
    for op in nodes:
        if op.kind != "op":
            continue
        for position, parent in enumerate(op.obj.parents):
            node = shown.get(id(parent))
            if node is None or parent._ctx is not None or id(node) in placed:
                continue
            placed.add(id(node))
            if position > 0 and node.layer == op.layer:
                beside[id(node)] = op
    return beside


def _emit(
    graph: graphviz.Digraph,
    nodes: list[Node],
    beside: dict[int, Node],
    labeler: _Labeler,
    scale: GradScale,
) -> None:
    """Declare ``nodes`` in ``graph``; each op with side inputs shares a rank with them."""
    groups: dict[int, list[Node]] = {}
    for node in nodes:
        if id(node) in beside:
            groups.setdefault(id(beside[id(node)]), []).append(node)
    for node in nodes:
        if id(node) in beside:
            continue
        if id(node) not in groups:
            graph.node(node.id, **labeler.attributes(node, scale))
            continue
        with graph.subgraph() as rank:
            rank.attr(rank="same")
            for member in [*groups[id(node)], node]:
                rank.node(member.id, **labeler.attributes(member, scale))


def _check_options(
    tensor: Any, model: Any, layers: bool, max_nodes: Any, trace: Any, rankdir: Any
) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"draw_graph: model must be a Module or None, got {type(model).__name__}")
    if layers and model is None:
        raise ValueError("draw_graph: layers=True and collapse=True need model= (the Sequential)")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 3:
        raise ValueError(f"draw_graph: max_nodes must be an integer >= 3, got {max_nodes!r}")
    if trace is not None and not isinstance(trace, Mapping):
        raise TypeError(
            f"draw_graph: trace must be a mapping {{op or tensor or id: number}}, "
            f"got {type(trace).__name__}"
        )
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")


class _Labeler:
    """Labels and styles of the nodes of one drawing."""

    def __init__(
        self,
        root: Tensor,
        names: dict[int, str],
        grads: bool,
        values: bool,
        trace: Mapping[Any, int] | None,
    ) -> None:
        self.root, self.names, self.grads, self.values, self.trace = (
            root,
            names,
            grads,
            values,
            trace,
        )

    def norm(self, node: Node) -> float | None:
        """The gradient norm a node is coloured by (a layer: its output's), if any."""
        if not self.grads:
            return None
        if node.kind == "tensor":
            return grad_norm(node.obj)
        if node.kind == "layer":
            output = _layer_output(node)
            return None if output is None else grad_norm(output)
        return None

    def kind(self, node: Node) -> str:
        if node.kind != "tensor":
            return node.kind
        t = node.obj
        if t is self.root:
            return "output"
        if isinstance(t, Parameter) or id(t) in self.names:
            return "parameter"
        return "leaf" if t._ctx is None else "tensor"

    def attributes(self, node: Node, scale: GradScale) -> dict[str, str]:
        attrs = dict(_STYLE[self.kind(node)])
        attrs["label"] = self.label(node)
        norm = self.norm(node)
        if norm is not None:
            attrs["fillcolor"] = scale.color(norm)
            if scale.position(norm) > 0.7:  # dark fill: white text stays readable
                attrs["fontcolor"] = "#ffffff"
        return attrs

    def label(self, node: Node) -> str:
        if node.kind == "more":
            return f"… {node.hidden:,} more nodes"
        if node.kind == "layer":
            lines = self._layer_lines(node)
        elif node.kind == "op":
            lines = [node.obj.name]
        else:
            lines = self._tensor_lines(node.obj)
        number = self._trace_number(node.obj)
        if number is not None:
            lines[0] = f"#{number} {lines[0]}"
        return "\\n".join(lines)

    def _trace_number(self, obj: Any) -> int | None:
        if self.trace is None or obj is None:
            return None
        number = self.trace.get(id(obj))
        return self.trace.get(obj) if number is None else number

    def _tensor_lines(self, t: Tensor) -> list[str]:
        name = self.names.get(id(t)) or t.name or ("output" if t is self.root else None)
        shape = shape_text(t.shape)
        lines = [f"{name} ({shape})" if name else shape, str(t.dtype)]
        if self.grads:
            norm = grad_norm(t)
            if norm is not None:
                lines.append(f"‖grad‖ {norm:.2e}")
            elif t.requires_grad:
                lines.append("grad not kept")
        if self.values:
            lines.append(_values_text(t))
        return lines

    def _layer_lines(self, node: Node) -> list[str]:
        child = node.obj
        lines = [f"{type(child).__name__} {node.layer}"]
        if child.extra_repr():
            lines.append(child.extra_repr())
        output = _layer_output(node)
        if output is not None:
            lines.append(f"out {shape_text(output.shape)}")
        if self.grads:
            norm = None if output is None else grad_norm(output)
            if norm is not None:
                lines.append(f"‖grad out‖ {norm:.2e}")
            for name, param in child.named_parameters(prefix=node.layer):
                param_norm = grad_norm(param)
                if param_norm is not None:
                    lines.append(f"‖grad {name}‖ {param_norm:.2e}")
        return lines


def _layer_output(node: Node) -> Tensor | None:
    """The last tensor a layer made (its output), or None when it made none."""
    made = [m.obj for m in node.members if m.kind == "tensor" and m.obj._ctx is not None]
    return made[-1] if made else None


def _values_text(t: Tensor) -> str:
    if t.size > VALUES_MAX_SIZE:
        return f"{t.size:,} values"
    if t.size == 1:
        return f"value {float(t.data.reshape(-1)[0]):.4g}"
    data = t.data
    return f"min {data.min():.3g} max {data.max():.3g} mean {data.mean():.3g}"


def _legend(scale: GradScale) -> str:
    """An HTML-like graph label: five swatches of the gradient colour scale with their norms."""
    cells = []
    for k in range(5):
        position = k / 4
        font = "#ffffff" if position > 0.7 else "#000000"
        cells.append(
            f'<td bgcolor="{ramp_color(position)}"><font color="{font}">'
            f"{scale.norm_at(position):.1e}</font></td>"
        )
    return (
        '<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
        '<tr><td colspan="5">gradient norm, log scale (pale = vanishing)</td></tr>'
        f"<tr>{''.join(cells)}</tr></table>>"
    )
