"""Seeing the unrolled sequence: draw_graph puts each time step of a recurrent layer in a cluster
of its own ("t = 1" ... "t = T"), and the trace and the explorer name each op's time step. The
clusters are checked against the graph walked here independently: the ops that lie between one
step's states and the previous step's."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn, record_sites, trace_backward
from tinygrad_lab.viz import draw_graph
from tinygrad_lab.viz.explore_data import explorer_data, recorded

STEP_CLUSTER = re.compile(r"subgraph (cluster_\w+_t(\d+)) \{")


def clusters_of(source: str) -> dict[str, list[str]]:
    """``{cluster name: node ids declared directly or nested inside it}`` of DOT text."""
    members: dict[str, list[str]] = {}
    open_clusters: list[str] = []
    for line in source.splitlines():
        start = re.match(r"\s*(?:subgraph (\w+) )?\{\s*$", line)  # (a rank group: no name)
        if start:
            open_clusters.append(start.group(1) or "")
            continue
        if re.match(r"\s*\}\s*$", line):
            if open_clusters:  # (the last closes the graph)
                open_clusters.pop()
            continue
        node = re.match(r"\s*(\w+) \[label=", line)
        if node:
            for name in filter(None, open_clusters):
                members.setdefault(name, []).append(node.group(1))
    return members


def ancestors(tensors) -> dict[int, object]:
    """Every op under ``tensors`` (theirs included), by id."""
    found: dict[int, object] = {}
    stack = list(tensors)
    while stack:
        ctx = stack.pop()._ctx
        if ctx is not None and id(ctx) not in found:
            found[id(ctx)] = ctx
            stack.extend(ctx.parents)
    return found


def made_at_each_step(unrolled, layers: int) -> dict[int, set[int]]:
    """``{t: ids of the ops made at step t}`` by creation order alone: per layer, the ops under
    its step-t states made after its step-(t-1) states (t >= 2). Step 1 is left out: what the
    loop starts from is made just before it, and creation order does not tell them apart."""
    per_layer = len(unrolled.steps[0]) // layers
    made: dict[int, set[int]] = {}
    for t in range(2, len(unrolled.steps) + 1):
        made[t] = set()
        for k in range(layers):
            now = unrolled.steps[t - 1][k * per_layer : (k + 1) * per_layer]
            last = unrolled.steps[t - 2][k * per_layer : (k + 1) * per_layer]
            newest_before = max(s.grad_fn.seq for s in last)
            made[t] |= {i for i, op in ancestors(now).items() if op.seq > newest_before}
    return made


MODES = st.sampled_from(["RNN", "LSTM", "GRU"])


@settings(max_examples=15, deadline=None)
@given(mode=MODES, length=st.integers(1, 5), layers=st.integers(1, 2))
def test_draw_graph_has_one_cluster_per_time_step(mode, length, layers) -> None:
    rnn = getattr(nn, mode)(2, 3, layers, rng=0)
    x = Tensor(np.random.default_rng(0).standard_normal((length, 4, 2)), requires_grad=True)
    output, _ = rnn(x)
    source = draw_graph(output.sum(), max_nodes=100_000).source  # (no node elided)
    labels = re.findall(r'label="t = (\d+)"', source)
    assert labels == [str(t) for t in range(1, length + 1)]
    clusters = clusters_of(source)
    steps = {int(m.group(2)): m.group(1) for m in STEP_CLUSTER.finditer(source)}
    assert sorted(steps) == list(range(1, length + 1))
    # each cluster holds exactly the ops made at its step (by creation order, for t >= 2);
    # step 1's, every op under its states that no later step's weights share
    unrolled = output.grad_fn.unrolled
    drawn = _drawn_objects(output.sum())
    in_cluster = {t: {id(drawn[i]) for i in clusters[steps[t]]} for t in steps}
    for t, expected in made_at_each_step(unrolled, layers).items():
        ops_in_cluster = {i for i in in_cluster[t] if not isinstance(_by_id(drawn, i), Tensor)}
        assert ops_in_cluster == expected, t
    first = {i for i in in_cluster[1] if not isinstance(_by_id(drawn, i), Tensor)}
    assert first and first <= set(ancestors(unrolled.steps[0]))  # step 1: ops under its states
    for t in range(2, length + 1):
        assert not first & in_cluster[t]


def _by_id(drawn: dict, key: int) -> object:
    return next(obj for obj in drawn.values() if id(obj) == key)


def _drawn_objects(root: Tensor) -> dict[str, object]:
    """Node id → the tensor or op it draws (draw_graph numbers nodes in data-flow order)."""
    from tinygrad_lab.viz.walk import graph_nodes

    nodes, _ = graph_nodes(root)
    return {n.id: n.obj for n in nodes}


def test_layer_view_nests_the_time_steps_inside_the_recurrent_layer() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(2, 3, rng=0)
            self.head = nn.Linear(3, 1, rng=1)

        def forward(self, x):
            return self.head(self.rnn(x)[0])

    model = Model()
    with record_sites():
        y = model(np.ones((4, 2, 2)))
    source = draw_graph(y.sum(), model, layers=True).source
    clusters = clusters_of(source)
    (layer,) = [name for name in clusters if 'label="GRU rnn"' in _header(source, name)]
    steps = [name for name in clusters if re.search(r"_t\d+$", name)]
    assert len(steps) == 4
    for name in steps:  # every node of a step's cluster is inside the layer's cluster
        assert clusters[name] and set(clusters[name]) <= set(clusters[layer])


def _header(source: str, cluster: str) -> str:
    start = source.index(f"subgraph {cluster} {{")
    return source[start : source.index("\n", source.index("label=", start))]


def test_graphs_without_recurrent_layers_have_no_time_step_clusters() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = nn.Linear(3, 2)(x).tanh().sum()
    assert "t = " not in draw_graph(y).source


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_trace_names_each_ops_time_step(mode) -> None:
    """Backward visits the steps from the last to the first: the trace's layer column says
    which step each op of the recurrent layer belongs to, the same as the drawing's clusters."""

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = getattr(nn, mode)(2, 3, rng=0)

        def forward(self, x):
            return self.rnn(x)[0]

    model, length = Model(), 4
    with trace_backward(model) as trace:
        output = model(np.ones((length, 1, 2)))
        output.sum().backward()
    steps = output.grad_fn.unrolled.time_step_of
    by_op = dict(zip(trace.visit_order.values(), trace.records, strict=True))
    seen = []
    for op_id, order in trace.visit_order.items():
        row = by_op[order]
        if op_id in steps:
            assert row.layer == f"rnn:{mode} t={steps[op_id]}", row
            seen.append(steps[op_id])
        else:
            assert row.layer in ("", f"rnn:{mode}"), row
    assert sorted(set(seen)) == list(range(1, length + 1))
    assert seen == sorted(seen, reverse=True)  # backward through time: t = T first


def test_explorer_names_each_ops_time_step() -> None:
    lstm = nn.LSTM(2, 3, rng=0)
    with record_sites():
        loss = lstm(np.ones((3, 1, 2)))[0].sum()
    data = explorer_data(recorded(loss, lstm), max_nodes=300)
    layers = {op["layer"] for op in data["ops"].values()}
    assert {"LSTM t=1", "LSTM t=2", "LSTM t=3"} <= layers
    steps = loss.grad_fn.parents[0].grad_fn.unrolled.time_step_of
    drawn = _drawn_objects(loss)
    for node_id, op in data["ops"].items():
        t = steps.get(id(drawn[node_id]))
        if op["op"] != "Sum":  # (the loss, made outside the layer)
            assert op["layer"] == ("LSTM" if t is None else f"LSTM t={t}"), op


@pytest.mark.needs_dot
def test_explorer_page_draws_one_cluster_per_time_step() -> None:
    """The explorer's graph is draw_graph's, laid out by dot: its SVG has the step clusters."""
    from tinygrad_lab.viz.explore import graph_svg

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.RNN(2, 3, rng=0)
            self.head = nn.Linear(3, 1, rng=1)

        def forward(self, x):
            return self.head(self.rnn(x)[0])

    model = Model()
    with record_sites():
        loss = model(np.ones((4, 1, 2))).sum()
    svg = graph_svg(recorded(loss, model))
    titles = re.findall(r">t = (\d+)</text>", svg)
    assert titles == ["1", "2", "3", "4"]
