"""The lab's network as a graph: one forward (and backward) pass of a roll number's run-1 network
on the lab's data, drawn with `tinygrad_lab.viz` (``tinygrad-lab graph``)."""

from __future__ import annotations

import os
from pathlib import Path

import graphviz

from tinygrad_lab import nn
from tinygrad_lab.grad_mode import record_sites
from tinygrad_lab.lab.output.files import OutputFiles
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress.part_a import draw_lab
from tinygrad_lab.tensor import Tensor
from tinygrad_lab.viz import GraphvizNotFoundError, draw_graph, output_format, retain_grads
from tinygrad_lab.viz.render import INSTALL_HINT


def lab_graph(
    roll: str, seed: int = 0, layers: bool = False, grads: bool = False
) -> graphviz.Digraph:
    """The graph of one forward pass (and, with ``grads``, its backward) of the run-1 network of
    ``roll`` on the lab's data, drawn from ``RandomState(seed)`` as the notebook draws them:
    data first, then the weights in layer order."""
    run = LabRun.from_roll(roll, seed)
    X, y, model, _ = draw_lab(run)
    inputs, target = Tensor(X), Tensor(y)
    inputs.name, target.name = "X", "y"
    with record_sites():  # the layer view needs to know which layer made each op
        loss = nn.MSELoss()(model(inputs), target)
    loss.name = "loss"
    if grads:
        retain_grads(loss)
        loss.backward()
    graph = draw_graph(loss, model=model, layers=layers, grads=grads)
    with graph.subgraph(name="title") as top:  # rank=source: alone on the top row
        top.attr(rank="source")
        top.node("title", graph_title(run), shape="plaintext", fontsize="14")
    return graph


def graph_title(run: LabRun) -> str:
    """``Lab 6, roll 102303346 (seed 0): run 1's network 3 → 12 × 5 → 1, relu``."""
    config = run.config
    return (
        f"Lab 6, roll {run.roll} (seed {run.seed}): run 1's network 3 → "
        f"{config.hidden_width} × {config.hidden_layers} → 1, {config.activation}"
    )


def graph_command(
    roll: str,
    out: str | os.PathLike,
    layers: bool = False,
    grads: bool = False,
    seed: int = 0,
) -> Path:
    """``tinygrad-lab graph``: draw the lab's network for ``roll`` into ``out`` (SVG, PNG, PDF or
    DOT, from the suffix), written as every lab file is (`OutputFiles`). Returns the path
    written. Without graphviz's ``dot``, the DOT source is written beside ``out`` instead and
    `GraphvizNotFoundError` says so."""
    out = Path(out)
    fmt = output_format(out)  # a bad suffix fails before any work
    graph = lab_graph(roll, seed=seed, layers=layers, grads=grads)
    missing = None
    with OutputFiles() as files:
        try:
            files.write(out, graph.source if fmt == "dot" else graph.pipe(format=fmt))
        except graphviz.ExecutableNotFound:
            source = out.with_suffix(".dot")
            files.write(source, graph.source)
            missing = GraphvizNotFoundError(
                f"graphviz's `dot` program was not found on PATH, so {out.name} could not be "
                f"made; {INSTALL_HINT}. The DOT source was written to {source}"
            )
    if missing is not None:
        raise missing
    return out
