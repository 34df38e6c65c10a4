"""Graph drawing: what is drawn matches the graph built; names, styles, values, trace numbers,
gradient colours, the layer view and the node budget say what they claim."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from viz_helpers import (
    CLUSTER_LABEL,
    chain,
    count_graph,
    is_op,
    luminance,
    mlp,
    mlp_loss,
    parse_dot,
)

import tinygrad_lab
from tinygrad_lab import Tensor, nn, record_sites
from tinygrad_lab.viz import GRAD_RAMP, GradScale, draw_graph, retain_grads

PARAM_BORDER = "#1f5fa8"


# ----------------------------------------------------------------------------- structure
@st.composite
def programs(draw):
    """A random graph: ops over a pool of tensors, with reuse, repeated inputs and constants."""
    seed = draw(st.integers(0, 2**31 - 1))
    steps = draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 99), st.integers(0, 99))))
    return seed, steps


@given(programs())
def test_node_and_edge_counts_equal_the_graph_built(program):
    seed, steps = program
    rng = np.random.default_rng(seed)
    pool = [Tensor(rng.normal(size=(2, 3)), requires_grad=True), Tensor(rng.normal(size=3))]
    for op, i, j in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        pool.append([a + b, a * b, a - 1.5, a.tanh(), (a * a).relu(), a.sigmoid() * b][op])
    root = sum(pool[1:], pool[0]).sum()
    tensors, ops, edges = count_graph(root)
    nodes, drawn_edges = parse_dot(draw_graph(root, max_nodes=10**6).source)
    assert sum(map(is_op, nodes.values())) == ops
    assert len(nodes) - ops == tensors
    assert len(drawn_edges) == edges
    order = list(nodes)  # declaration order: each input declared before the op using it
    assert all(order.index(a) < order.index(b) for a, b in drawn_edges)


def test_edges_run_input_to_op_to_output():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    x.name = "x"
    out = (x * x).sum()
    nodes, edges = parse_dot(draw_graph(out).source)
    by_label = {attrs["label"].split("\\n")[0]: key for key, attrs in nodes.items()}
    x_id, mul, square, total = (
        by_label["x (2×2)"],
        by_label["Mul"],
        by_label["2×2"],
        by_label["Sum"],
    )
    # x feeds Mul twice (x * x), Mul makes the square, which feeds Sum, which makes the output
    assert edges.count((x_id, mul)) == 2
    assert (mul, square) in edges and (square, total) in edges
    assert (total, by_label["output (scalar)"]) in edges


def test_parameter_names_appear_with_their_shapes():
    model = mlp(np.random.default_rng(0))
    nodes, _ = parse_dot(draw_graph(mlp_loss(model, np.random.default_rng(1)), model).source)
    labels = {attrs["label"].split("\\n")[0]: attrs for attrs in nodes.values()}
    for name, param in model.named_parameters():
        title = f"{name} ({'×'.join(map(str, param.shape))})"
        assert title in labels, title
        assert labels[title]["color"] == PARAM_BORDER


def test_without_a_model_the_tensor_name_is_shown():
    w = nn.Parameter(np.ones((2, 3)))
    w.name = "w"
    nodes, _ = parse_dot(draw_graph((Tensor(np.ones((4, 2))) @ w).sum()).source)
    titles = [attrs["label"].split("\\n")[0] for attrs in nodes.values()]
    assert "w (2×3)" in titles


def test_leaves_parameters_and_output_are_styled_apart():
    model = mlp(np.random.default_rng(0))
    loss = mlp_loss(model, np.random.default_rng(1))
    nodes, _ = parse_dot(draw_graph(loss, model).source)
    kinds = {}
    for attrs in nodes.values():
        title = attrs["label"].split("\\n")[0]
        if title.startswith("0.weight"):
            kinds["parameter"] = attrs
        elif title == "8×3":
            kinds["leaf"] = attrs
        elif title.startswith("output"):
            kinds["output"] = attrs
        elif title == "8×5":
            kinds["intermediate"] = attrs
    styles = {k: (a["style"], a["color"], a.get("peripheries")) for k, a in kinds.items()}
    assert len(styles) == 4 and len(set(styles.values())) == 4
    assert "dashed" in kinds["leaf"]["style"] and kinds["output"]["peripheries"] == "2"


def test_drawing_changes_nothing_and_retain_grads_keeps_every_gradient():
    def grads(draw: bool) -> list[np.ndarray]:
        model = mlp(np.random.default_rng(0))
        loss = mlp_loss(model, np.random.default_rng(1))
        if draw:
            draw_graph(loss, model, layers=True)
            retain_grads(loss)
        loss.backward()
        if draw:
            tensors = [t for t in tinygrad_lab.viz.walk.tensors(loss) if t.requires_grad]
            assert all(t.grad is not None for t in tensors)
            draw_graph(loss, model, grads=True)
        return [p.grad for p in model.parameters()]

    for with_drawing, without in zip(grads(True), grads(False), strict=True):
        np.testing.assert_array_equal(with_drawing, without)


def test_values_summary_for_small_tensors():
    data = np.random.default_rng(0).normal(size=(3, 4))
    big = Tensor(np.zeros(tinygrad_lab.viz.draw.VALUES_MAX_SIZE + 1), requires_grad=True)
    out = Tensor(data, requires_grad=True).exp().sum() + big.sum()
    labels = [a["label"] for a in parse_dot(draw_graph(out, values=True).source)[0].values()]
    exp = np.exp(data)
    summary = f"min {exp.min():.3g} max {exp.max():.3g} mean {exp.mean():.3g}"
    assert any(summary in label for label in labels)
    (big_label,) = [label for label in labels if label.startswith(f"{big.size}")]
    assert "min" not in big_label
    assert all("min" not in a["label"] for a in parse_dot(draw_graph(out).source)[0].values())


def test_trace_numbers_prefix_the_labels():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x.tanh()
    out = y.sum()
    trace = {id(out._ctx): 1, y._ctx: 2, id(x): 3}
    labels = sorted(a["label"] for a in parse_dot(draw_graph(out, trace=trace).source)[0].values())
    assert [label for label in labels if label.startswith("#")] == [
        "#1 Sum",
        "#2 Tanh",
        "#3 3\\nfloat64",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(tensor=np.ones(3)), TypeError, "expected a Tensor"),
        (dict(max_nodes=2), ValueError, "max_nodes"),
        (dict(rankdir="up"), ValueError, "rankdir"),
        (dict(layers=True), ValueError, "model="),
        (dict(collapse=True), ValueError, "model="),
        (dict(grads=True), ValueError, "backward()"),
        (dict(trace=[1]), TypeError, "trace"),
    ],
)
def test_bad_options_are_named(kwargs, error, words):
    tensor = kwargs.pop("tensor", (Tensor(np.ones(2), requires_grad=True) * 2).sum())
    with pytest.raises(error, match=re.escape(words)):
        draw_graph(tensor, **kwargs)


def test_layer_view_needs_recorded_modules():
    model = mlp(np.random.default_rng(0))
    loss = nn.MSELoss()(model(Tensor(np.ones((2, 3)))), Tensor(np.ones((2, 1))))
    with pytest.raises(ValueError, match="record_sites"):
        draw_graph(loss, model, layers=True)


# ----------------------------------------------------------------------------- gradient colours
def drawn_norms(source: str) -> list[tuple[float, str]]:
    """(gradient norm shown, fill colour) of every node that shows one."""
    out = []
    for attrs in parse_dot(source)[0].values():
        found = re.search(r"‖grad‖ (\S+)", attrs["label"])
        if found:
            out.append((float(found.group(1).replace("\\n", "")), attrs["fillcolor"]))
    return out


def test_grad_colour_orders_nodes_by_gradient_norm():
    model = mlp(np.random.default_rng(0), sizes=(3, 6, 6, 6, 1), act=nn.Sigmoid)
    loss = retain_grads(mlp_loss(model, np.random.default_rng(1)))
    loss.backward()
    shown = drawn_norms(draw_graph(loss, model, grads=True).source)
    # every tensor that needs grad shows its own norm, computed here independently
    expected = sorted(
        float(np.linalg.norm(t.grad))
        for t in tinygrad_lab.viz.walk.tensors(loss)
        if t.requires_grad
    )
    np.testing.assert_allclose(sorted(n for n, _ in shown), expected, rtol=5e-3)
    shown.sort()
    light = [luminance(color) for _, color in shown]
    assert all(a >= b for a, b in zip(light, light[1:], strict=False))  # monotonic
    assert shown[0][1] == GRAD_RAMP[0] and shown[-1][1] == GRAD_RAMP[-1]
    # vanishing gradients fade: the first layer's weight is paler than the last layer's
    colors = {t: c for t, c in shown}
    first, last = (float(np.linalg.norm(model[k].weight.grad)) for k in (0, -1))
    assert first < last
    first_color = min(colors.items(), key=lambda kv: abs(math.log(kv[0] / first)))[1]
    last_color = min(colors.items(), key=lambda kv: abs(math.log(kv[0] / last)))[1]
    assert luminance(first_color) > luminance(last_color)


@given(
    st.lists(st.floats(1e-12, 1e6), min_size=2, max_size=20),
    st.floats(1e-12, 1e6),
    st.floats(1e-12, 1e6),
)
def test_grad_scale_is_monotonic_on_a_log_scale(norms, a, b):
    scale = GradScale.of(norms)
    a, b = min(a, b), max(a, b)
    assert luminance(scale.color(a)) >= luminance(scale.color(b))
    pa, pb = scale.position(a), scale.position(b)
    assert 0 <= pa <= pb <= 1
    inside = scale.low <= a and b <= scale.high and scale.high > scale.low
    if inside:  # linear in log(norm) between the smallest and the largest norm
        expected = math.log(b / a) / math.log(scale.high / scale.low)
        assert pb - pa == pytest.approx(expected, abs=1e-9)
    if inside and pb - pa > 0.02:
        assert luminance(scale.color(a)) > luminance(scale.color(b))
    assert scale.color(0.0) == GRAD_RAMP[0]


# ----------------------------------------------------------------------------- layer view
def test_layer_view_has_one_cluster_per_module():
    model = mlp(np.random.default_rng(0), sizes=(3, 4, 4, 2), act=nn.Tanh)
    loss = mlp_loss(model, np.random.default_rng(1))
    source = draw_graph(loss, model, layers=True).source
    labels = CLUSTER_LABEL.findall(source)
    assert labels == [f"{type(m).__name__} {k}" for k, m in enumerate(model)]
    # the clusters regroup the same nodes and edges
    assert [len(x) for x in parse_dot(source)] == [
        len(x) for x in parse_dot(draw_graph(loss, model).source)
    ]
    # every op but the loss sits inside a cluster
    outside = source[: source.index("subgraph cluster_")]
    assert [a["label"] for a in parse_dot(outside)[0].values() if is_op(a)] == ["MSE"]


def test_collapsed_layer_view_has_one_node_per_layer():
    model = mlp(np.random.default_rng(0), sizes=(3, 4, 4, 4, 2))
    loss = mlp_loss(model, np.random.default_rng(1))
    retain_grads(loss).backward()
    nodes, edges = parse_dot(draw_graph(loss, model, collapse=True, grads=True).source)
    layers = [key for key, a in nodes.items() if a.get("shape") == "box3d"]
    assert [nodes[k]["label"].split("\\n")[0] for k in layers] == [
        f"{type(m).__name__} {k}" for k, m in enumerate(model)
    ]
    # besides the layers: input, target, loss op, loss
    assert len(nodes) == len(model) + 4
    chain = list(zip(layers, layers[1:], strict=False))
    assert all(edge in edges for edge in chain)
    assert len(edges) == len(set(edges))
    weight_norm = float(np.linalg.norm(model[0].weight.grad))
    assert f"‖grad 0.weight‖ {weight_norm:.2e}" in nodes[layers[0]]["label"]


def test_layers_go_by_top_level_child_for_nested_models():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU()), nn.Linear(4, 1))
    x = Tensor(rng.normal(size=(5, 3)))
    with record_sites():
        loss = model(x).sum()
    nodes, _ = parse_dot(draw_graph(loss, model, collapse=True).source)
    titles = [a["label"].split("\\n")[0] for a in nodes.values()]
    assert titles == ["5×3", "Sequential 0", "Linear 1", "Sum", "output (scalar)"]


# ----------------------------------------------------------------------------- node budget
def test_node_budget_elides_the_middle_with_a_marked_node():
    root = chain(2500)  # 5,001 nodes: the leaf, then an op and a tensor per step
    tensors, ops, _ = count_graph(root)
    graph = draw_graph(root, max_nodes=41)
    nodes, edges = parse_dot(graph.source)
    assert len(nodes) == 41
    (more,) = [k for k, a in nodes.items() if "more nodes" in a["label"]]
    hidden = int(re.search(r"([\d,]+) more", nodes[more]["label"]).group(1).replace(",", ""))
    assert hidden + len(nodes) - 1 == tensors + ops
    # the chain still runs through: into the marked node, out of it, no edge inside it
    assert [b for a, b in edges].count(more) == 1 and [a for a, b in edges].count(more) == 1
    order = list(nodes)
    assert order[0] == "t0" and nodes[order[-1]]["label"].startswith("output")
