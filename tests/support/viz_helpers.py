"""Helpers of the graph-drawing tests: reading DOT text back, counting a graph independently."""

from __future__ import annotations

import re

import numpy as np

from tinygrad_lab import Tensor, nn, record_sites

CLUSTER_LABEL = re.compile(r"subgraph cluster_\d+ \{\n\s*.*label=\"([^\"]+)\"")


_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')


def parse_dot(source: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    """Nodes (id → attributes, in declaration order) and edges of DOT text."""
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str]] = []
    for line in source.splitlines():
        edge = re.match(r"\s*(\w+) -> (\w+)", line)
        if edge:
            edges.append((edge.group(1), edge.group(2)))
            continue
        node = re.match(r"\s*(\w+) \[(.*)\]\s*$", line)
        if node and node.group(1) not in ("graph", "node", "edge"):
            attrs = {k: v.strip('"') for k, v in _ATTR.findall(node.group(2))}
            nodes[node.group(1)] = attrs
    return nodes, edges


def count_graph(root: Tensor) -> tuple[int, int, int]:
    """(tensors, ops, edges) of the graph under ``root``, by walking ``ctx.parents`` directly."""
    tensors, ops, stack = {id(root): root}, {}, [root]
    while stack:
        ctx = stack.pop()._ctx
        if ctx is None or id(ctx) in ops:
            continue
        ops[id(ctx)] = ctx
        for parent in ctx.parents:
            if id(parent) not in tensors:
                tensors[id(parent)] = parent
                stack.append(parent)
    edges = sum(len(ctx.parents) + 1 for ctx in ops.values())  # inputs → op → output
    return len(tensors), len(ops), edges


def luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def mlp(rng: np.random.Generator, sizes=(3, 5, 4, 1), act=nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b, rng=rng))
        if k < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def mlp_loss(model: nn.Sequential, rng: np.random.Generator, n: int = 8) -> Tensor:
    x = Tensor(rng.normal(size=(n, model[0].in_features)))
    y = Tensor(rng.normal(size=(n, model[-1].out_features)))
    with record_sites():
        return nn.MSELoss()(model(x), y)


def is_op(attrs: dict[str, str]) -> bool:
    return attrs.get("shape") == "ellipse"


def chain(length: int) -> Tensor:
    x = Tensor(np.full(2, 0.5), requires_grad=True)
    for _ in range(length):
        x = x.tanh()
    return x


def hide_dot(monkeypatch, tmp_path) -> None:
    """Make graphviz's `dot` unfindable for one test (an empty PATH)."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
