"""Computation graphs drawn with graphviz: ``draw_graph(loss)`` returns a ``graphviz.Digraph``
(shown inline in Jupyter), ``render(graph, "graph.svg")`` writes SVG, PNG or PDF.

To see every node's gradient, and the layers of a model::

    with tl.record_sites():             # ops remember which layer made them
        loss = loss_fn(model(x), y)
    retain_grads(loss)                  # keep the gradient of every tensor, not only leaves
    loss.backward()
    draw_graph(loss, model=model, grads=True, layers=True)

To step through backward in the browser, one node at a time: ``explore(loss, model=model,
path="backprop.html")`` (see `tinygrad_lab.viz.explore`).
"""

from __future__ import annotations

from tinygrad_lab.tensor import Tensor
from tinygrad_lab.viz.draw import GRAD_RAMP, GradScale, draw_graph, grad_norm, ramp_color
from tinygrad_lab.viz.explore import ExplorerPage, explore
from tinygrad_lab.viz.render import GraphvizNotFoundError, output_format, render
from tinygrad_lab.viz.walk import tensors


def retain_grads(tensor: Tensor) -> Tensor:
    """Call ``retain_grad()`` on every non-leaf tensor of the graph under ``tensor`` that
    requires grad, so the next backward fills every node's ``.grad``. Returns ``tensor``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"retain_grads: expected a Tensor, got {type(tensor).__name__}")
    for t in tensors(tensor):
        if t._ctx is not None and t.requires_grad:
            t.retain_grad()
    return tensor


__all__ = [
    "ExplorerPage",
    "GRAD_RAMP",
    "GradScale",
    "GraphvizNotFoundError",
    "draw_graph",
    "explore",
    "grad_norm",
    "output_format",
    "ramp_color",
    "render",
    "retain_grads",
]
