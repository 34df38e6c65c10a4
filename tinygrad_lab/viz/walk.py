"""The graph under a tensor as plain nodes and edges: the walk, the layer view, the node budget.

Nothing here styles or draws; ``draw.py`` turns the result into DOT. Nothing here changes the
graph either: the walk is `tinygrad_lab.graph`'s, the one backward uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tinygrad_lab.graph import topological_order
from tinygrad_lab.nn.rnn import time_steps
from tinygrad_lab.tensor import Function, Tensor


@dataclass(eq=False)
class Node:
    """One drawn node: a tensor, an op, a collapsed layer, or the "…N more" of the budget."""

    id: str
    kind: str  # "tensor" | "op" | "layer" | "more"
    obj: Any = None  # the Tensor, the Function, or the layer's Module
    layer: str | None = None  # name of the model child that made it (layer view)
    members: list[Node] = field(default_factory=list)  # what a "layer" node stands for
    hidden: int = 0  # how many nodes a "more" node stands for
    gradient: bool = False  # part of a gradient's graph, recorded by backward(create_graph=True)
    backward_of: Any = None  # the forward op whose recorded backward made it, if one did
    time_step: tuple[int, int] | None = None  # (k, t): time step t of the k-th unrolled layer


Edge = tuple[Node, Node]


def data_flow_order(root: Tensor) -> list[Tensor | Function]:
    """Every tensor and op under ``root``, each after all of its inputs: the graph's topological
    order with each op just before the tensor it made. A layer's parameters come just before
    its op, so a contiguous run of this order is a contiguous piece of the network."""
    order: list[Tensor | Function] = []
    for tensor in topological_order(root, requiring_grad=False):
        if tensor._ctx is not None:
            order.append(tensor._ctx)
        order.append(tensor)
    return order


def graph_nodes(root: Tensor) -> tuple[list[Node], list[Edge]]:
    """One node per tensor and per op, edges input → op → output, all in data-flow order.

    An op that takes the same tensor twice (``x * x``) gets two edges from it.
    """
    nodes: list[Node] = []
    by_obj: dict[int, Node] = {}
    edges: list[Edge] = []
    for index, obj in enumerate(data_flow_order(root)):
        if isinstance(obj, Tensor):
            node = Node(f"t{index}", "tensor", obj)
            if obj._ctx is not None:
                edges.append((by_obj[id(obj._ctx)], node))
        else:
            node = Node(f"f{index}", "op", obj)
            edges.extend((by_obj[id(parent)], node) for parent in obj.parents)
        by_obj[id(obj)] = node
        nodes.append(node)
    return nodes, edges


def tensors(root: Tensor) -> Iterator[Tensor]:
    """Every tensor of the graph under ``root``, inputs first."""
    return (obj for obj in data_flow_order(root) if isinstance(obj, Tensor))


# -------------------------------------------------------------------------- gradient graph
def mark_gradient(nodes: list[Node]) -> None:
    """Set ``gradient`` and ``backward_of`` on the nodes a ``create_graph=True`` backward built.

    An op is in the gradient's graph when an op's recorded backward made it (``backward_of``,
    marked by `tinygrad_lab.differentiable`), or when every input of it that requires grad is
    a gradient (the sums of gradients that backward adds, and what is computed from gradients
    alone); a tensor goes with the op that made it. Leaves belong to neither graph.
    """
    seen: dict[int, Node] = {}  # id(tensor or op) -> its node
    for node in nodes:  # data-flow order: an op after its inputs, just before its output
        seen[id(node.obj)] = node
        if node.kind == "op":
            node.backward_of = getattr(node.obj, "backward_of", None)
            inputs = [seen[id(p)] for p in node.obj.parents if p.requires_grad]
            node.gradient = node.backward_of is not None or (
                bool(inputs) and all(i.gradient for i in inputs)
            )
        elif node.kind == "tensor" and node.obj._ctx is not None:
            op = seen[id(node.obj._ctx)]
            node.gradient, node.backward_of = op.gradient, op.backward_of


# ----------------------------------------------------------------------------- time steps
def assign_time_steps(nodes: list[Node]) -> None:
    """Set ``time_step`` on the nodes a recurrent layer made at a time step of its sequence
    (`tinygrad_lab.nn.rnn.time_steps`): the drawing puts each step in a cluster of its own."""
    steps = time_steps(node.obj for node in nodes if node.kind == "op")
    if steps:
        for node in nodes:
            node.time_step = steps.get(id(node.obj))


# ----------------------------------------------------------------------------- layer view
def assign_layers(nodes: list[Node], model: Any) -> list[tuple[str, Any]]:
    """Set ``node.layer`` to the name of the child of ``model`` that made it; return the children.

    An op belongs to the child whose subtree holds the Module recorded as its creator, an op's
    output to its op, a parameter to the child that owns it. Inputs, targets and ops made outside
    the model (the loss) belong to no layer.
    """
    children = list(model.named_children())
    if not children:
        raise ValueError(
            f"draw_graph: layers=True needs a model with child modules (a Sequential, ...); "
            f"{type(model).__name__} has none"
        )
    owner: dict[int, str] = {}
    for name, child in children:
        for module in child.modules():
            owner.setdefault(id(module), name)
        for param in child.parameters():
            owner.setdefault(id(param), name)
    ops = [node for node in nodes if node.kind == "op"]
    if ops and all(node.obj.module is None for node in ops):
        raise ValueError(
            "draw_graph: layers=True needs to know which module made each op, and none was "
            "recorded: run the forward pass inside `with tinygrad_lab.record_sites():`"
        )
    op_layer: dict[int, str | None] = {}
    for node in nodes:  # data-flow order: an op is assigned before its output tensor
        obj = node.obj
        if node.kind == "op":
            node.layer = op_layer[id(obj)] = owner.get(id(obj.module))
        elif obj._ctx is not None:
            node.layer = op_layer[id(obj._ctx)]
        else:
            node.layer = owner.get(id(obj))
    return children


def collapse_layers(
    nodes: list[Node], edges: list[Edge], children: list[tuple[str, Any]]
) -> tuple[list[Node], list[Edge]]:
    """Replace each layer's nodes by one "layer" node, placed where the layer starts."""
    layer_nodes: dict[str, Node] = {}
    for index, (name, child) in enumerate(children):
        layer_nodes[name] = Node(f"layer{index}", "layer", child, layer=name)
    shown: list[Node] = []
    stands_for: dict[int, Node] = {}
    for node in nodes:
        if node.layer is None:
            stands_for[id(node)] = node
            shown.append(node)
            continue
        layer = layer_nodes[node.layer]
        if not layer.members:
            shown.append(layer)
        layer.members.append(node)
        stands_for[id(node)] = layer
    return shown, remap_edges(edges, stands_for)


def apply_budget(
    nodes: list[Node], edges: list[Edge], max_nodes: int
) -> tuple[list[Node], list[Edge]]:
    """At most ``max_nodes`` nodes: the middle of the data-flow order becomes one "…N more" node.

    The head and the tail (the inputs and the loss end) stay; for a long chain of repeated
    layers that elides the repeats in the middle.
    """
    if len(nodes) <= max_nodes:
        return nodes, edges
    kept = max_nodes - 1
    head, tail = kept // 2, kept - kept // 2
    middle = nodes[head : len(nodes) - tail]
    more = Node("more", "more", hidden=len(middle))
    stands_for = {id(node): node for node in nodes}
    stands_for.update((id(node), more) for node in middle)
    return nodes[:head] + [more] + nodes[len(nodes) - tail :], remap_edges(edges, stands_for)


def remap_edges(edges: list[Edge], stands_for: dict[int, Node]) -> list[Edge]:
    """Edges between the nodes that now stand for their ends; edges inside one node vanish and a
    merged node gets each edge once (an op's repeated input keeps its repeats)."""
    out: list[Edge] = []
    merged: set[tuple[int, int]] = set()
    for a, b in edges:
        src, dst = stands_for[id(a)], stands_for[id(b)]
        if src is dst:
            continue
        if src is not a or dst is not b:
            key = (id(src), id(dst))
            if key in merged:
                continue
            merged.add(key)
        out.append((src, dst))
    return out
