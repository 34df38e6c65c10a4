"""Helpers of the explorer tests: the lab network's loss, an independent Python trace of it, and
the graph's node ids, so a test can say which node the page must highlight."""

from __future__ import annotations

import dataclasses

import numpy as np

from tinygrad_lab import Tensor, nn, record_sites
from tinygrad_lab.lab.rules import lab_config
from tinygrad_lab.lab.stress.network import build_network
from tinygrad_lab.lab.stress.part_a import make_data
from tinygrad_lab.trace import BackwardTrace, trace_backward
from tinygrad_lab.viz import retain_grads
from tinygrad_lab.viz.walk import graph_nodes

ROLL = "102303346"


def lab_loss(
    hidden_layers: int | None = None, seed: int = 0, n_samples: int | None = None
) -> tuple[nn.Sequential, Tensor]:
    """Run 1's network of the example roll and its loss, drawn as lab/graph.py draws them."""
    config = lab_config(ROLL)
    if hidden_layers is not None:
        config = dataclasses.replace(config, hidden_layers=hidden_layers)
    rng = np.random.RandomState(seed)
    X, y = make_data(rng, n_samples or config.n_samples)
    model = build_network(config, rng)
    inputs, target = Tensor(X), Tensor(y)
    inputs.name, target.name = "X", "y"
    with record_sites():
        loss = nn.MSELoss()(model(inputs), target)
    loss.name = "loss"
    return model, loss


def python_trace(loss: Tensor, model: nn.Module | None) -> BackwardTrace:
    """The trace ``print(trace)`` shows, recorded here independently of the explorer; afterwards
    every tensor of the graph holds its gradient."""
    with trace_backward(model) as trace:
        retain_grads(loss).backward(retain_graph=True)
    return trace


def node_ids(loss: Tensor) -> dict[int, str]:
    """``{id(tensor or op): node id}`` as draw_graph names the nodes (its SVG titles)."""
    return {id(node.obj): node.id for node in graph_nodes(loss)[0]}


def arrival_steps(loss: Tensor, trace: BackwardTrace) -> dict[int, int]:
    """``{id(tensor): step}``: after which backward step each tensor's gradient is complete
    (the last visit of an op that used it; 0 for the loss), worked out from the trace alone."""
    arrival = {id(loss): 0}
    for ctx_id, order in trace.visit_order.items():
        record = trace.records[order - 1]
        ctx = _ctx_by_id(loss)[ctx_id]
        sent = record.grad_out_norms.split(", ")
        for parent, text in zip(ctx.parents, sent, strict=True):
            if text != "—":
                arrival[id(parent)] = max(arrival.get(id(parent), 0), order)
    return arrival


def _ctx_by_id(loss: Tensor) -> dict[int, object]:
    return {id(node.obj): node.obj for node in graph_nodes(loss)[0] if node.kind == "op"}
