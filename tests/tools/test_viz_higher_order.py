"""The graph a ``create_graph=True`` backward builds, seen: `draw_graph` clusters it apart from the
forward graph ("backward of <op>" per forward op whose backward made the nodes), and the trace
lists what each node's backward recorded and, in the next backward, what each node is the
backward of."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from viz_helpers import parse_dot

import tinygrad_lab as tl
from tinygrad_lab import Tensor
from tinygrad_lab.viz import draw_graph, render
from tinygrad_lab.viz.walk import data_flow_order

ATTRIBUTES = ("graph", "node", "edge")  # DOT statements that set defaults, not nodes


def clusters(source: str) -> dict[str, tuple[str, ...]]:
    """{node id: labels of the clusters it is declared in, outermost first} of DOT text."""
    where: dict[str, tuple[str, ...]] = {}
    stack: list[str | None] = []  # one entry per open subgraph: its label once read
    for line in source.splitlines():
        if re.match(r"\s*(subgraph|\{)", line):  # a cluster, or a rank=same group
            stack.append(None)
        elif re.match(r"\s*\}", line) and stack:
            stack.pop()
        elif label := re.match(r'\s*(?:color=\S+ )?label="([^"]+)"', line):
            if stack and stack[-1] is None:
                stack[-1] = label.group(1)
        elif (node := re.match(r"\s*(\w+) \[", line)) and node.group(1) not in ATTRIBUTES:
            where[node.group(1)] = tuple(s for s in stack if s is not None)
    return where


def drawn_objects(root: Tensor) -> dict[str, object]:
    """{DOT node id: the Tensor or Function it stands for}, as draw_graph numbers them."""
    return {
        f"{'t' if isinstance(obj, Tensor) else 'f'}{i}": obj
        for i, obj in enumerate(data_flow_order(root))
    }


def power_by_products(x: Tensor, n: int) -> Tensor:
    """x**n as n - 1 Muls, x * x * ... * x: Mul's backward is twice differentiable."""
    y = x
    for _ in range(n - 1):
        y = y * x
    return y


def forward_ops(root: Tensor) -> list:
    """The Function nodes under ``root``, walked through ``parents`` (before any backward)."""
    found, stack = {}, [root]
    while stack:
        ctx = stack.pop()._ctx
        if ctx is not None and id(ctx) not in found:
            found[id(ctx)] = ctx
            stack.extend(ctx.parents)
    return list(found.values())


shapes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, n=st.integers(2, 5), seed=st.integers(0, 2**31 - 1))
def test_gradient_graph_is_drawn_apart_from_the_forward_graph(shape, n, seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=shape), requires_grad=True)
    y = power_by_products(x, n)
    forward = forward_ops(y)
    (grad,) = tl.autograd.grad(y, x, grad_outputs=Tensor(np.ones(shape)), create_graph=True)
    np.testing.assert_allclose(grad.data, n * x.data ** (n - 1), rtol=1e-12)

    source = draw_graph(grad, max_nodes=10**6).source
    where, objects = clusters(source), drawn_objects(grad)
    nodes, _ = parse_dot(source)
    assert set(where) == set(nodes) == set(objects)
    ops = {key: obj for key, obj in objects.items() if not isinstance(obj, Tensor)}
    assert all(nodes[key]["label"] in ("Mul", "Add") for key in ops)
    forward_ids = {id(op) for op in forward}
    for key, op in ops.items():
        if id(op) in forward_ids:  # made by the forward pass, before backward ran
            assert where[key] == ("forward graph",)
        elif nodes[key]["label"] == "Add":  # the sums of x's n gradient contributions
            assert where[key] == ("gradient graph",)
        else:  # each forward Mul's backward made two Muls (grad * y, grad * x)
            assert where[key][0] == "gradient graph" and len(where[key]) == 2
    # n - 1 forward Muls, each with its own cluster of 2 Muls, numbered in forward order
    made = [where[key][1] for key in ops if len(where[key]) == 2]
    assert sorted(made) == sorted(
        [f"backward of Mul ({k})" if n > 2 else "backward of Mul" for k in range(1, n)] * 2
    )
    products, p = [], y  # y_k = y_(k-1) * x: the backward of Mul k multiplies by y_(k-1)
    while p is not x:
        products.insert(0, p)
        p = p._ctx.parents[0]
    for k in range(2, n):
        uses = [op for key, op in ops.items() if where[key][1:] == (f"backward of Mul ({k})",)]
        assert any(parent is products[k - 2] for op in uses for parent in op.parents)
    adds = [key for key in ops if nodes[key]["label"] == "Add"]
    assert len(adds) == n - 1
    for key, obj in objects.items():  # a tensor is drawn where its op is; a leaf outside
        if isinstance(obj, Tensor):  # the clusters, or beside an op that takes it
            if obj._ctx is not None:
                assert where[key] == where[_key(ops, obj._ctx)]
            else:
                users = [where[k] for k, op in ops.items() if any(p is obj for p in op.parents)]
                assert where[key] == () or where[key] in users


def _key(objects: dict[str, object], obj: object) -> str:
    return next(key for key, value in objects.items() if value is obj)


@settings(max_examples=15, deadline=None)
@given(shape=shapes, n=st.integers(2, 4), seed=st.integers(0, 2**31 - 1))
def test_an_ordinary_backward_marks_nothing_and_draws_no_gradient_cluster(shape, n, seed):
    x = Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)
    y = power_by_products(x, n)
    y.backward(np.ones(shape))
    assert all(getattr(op, "backward_of", None) is None for op in forward_ops(y))
    source = draw_graph(y).source
    assert "forward graph" not in source and "gradient graph" not in source
    assert "backward of" not in source


def test_nodes_of_a_second_order_backward_name_the_op_they_differentiate():
    x = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    y = power_by_products(x, 3)
    first, second = y._ctx.parents[0]._ctx, y._ctx  # x * x, then (x * x) * x
    (grad,) = tl.autograd.grad(y, x, grad_outputs=Tensor(np.ones(3)), create_graph=True)
    made = {}
    for op in forward_ops(grad):
        origin = getattr(op, "backward_of", None)
        made.setdefault(None if origin is None else id(origin), []).append(op)
    assert len(made[id(first)]) == len(made[id(second)]) == 2
    assert {op.name for op in made[id(first)] + made[id(second)]} == {"Mul"}
    assert {op.name for op in made[None]} == {"Mul", "Add"}  # forward's x * x, sums
    # differentiating the gradient again marks its own backward's nodes by the gradient's ops
    (hessian_diag,) = tl.autograd.grad(grad, x, grad_outputs=Tensor(np.ones(3)), create_graph=True)
    np.testing.assert_allclose(hessian_diag.data, 6 * x.data)
    origins = {getattr(op, "backward_of", None) for op in forward_ops(hessian_diag)}
    assert origins & set(made[id(first)] + made[id(second)])
    labels = re.findall(r'label="(backward of [^"]+)"', draw_graph(hessian_diag).source)
    assert labels and all(label.startswith("backward of ") for label in labels)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(2, 5), seed=st.integers(0, 2**31 - 1))
def test_trace_lists_what_each_backward_recorded_and_what_the_next_backward_visits(n, seed):
    x = Tensor(np.random.default_rng(seed).normal(size=4), requires_grad=True)
    with tl.trace_backward() as trace:
        y = power_by_products(x, n)
        (grad,) = tl.autograd.grad(y, x, grad_outputs=Tensor(np.ones(4)), create_graph=True)
    assert [r.op for r in trace.records] == ["Mul"] * (n - 1)
    assert trace.recorded == {order: ["Mul", "Mul"] for order in range(1, n)}
    text = str(trace)
    assert "recorded by create_graph=True" in text
    assert all(f"#{order} Mul: Mul, Mul" in text for order in range(1, n))

    with tl.trace_backward() as again:
        grad.backward(np.ones(4))
    np.testing.assert_allclose(x.grad, n * (n - 1) * x.data ** (n - 2), rtol=1e-10)
    ops = [r.op for r in again.records]
    assert ops.count("Mul (backward of Mul)") == 2 * (n - 1)
    assert ops.count("Add") == n - 1  # the sums of x's gradients
    assert ops.count("Mul") == n - 2  # the forward products the gradient used: x*x, ...
    assert again.recorded == {}  # an ordinary backward records nothing


def test_drawing_of_x_cubed_summed_clusters_pow_and_its_backward():
    """The example of the README: (x**3).sum().backward(create_graph=True), then x.grad."""
    x = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    with tl.trace_backward() as first:
        (x**3).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)
    pow_order = [r.op for r in first.records].index("Pow") + 1
    assert first.recorded[pow_order] and set(first.recorded) <= {pow_order, pow_order - 1}
    with tl.trace_backward() as second:
        (x.grad**2).sum().backward()
    made = [r.op for r in second.records if r.op.endswith(" (backward of Pow)")]
    assert sorted(op.split()[0] for op in made) == sorted(first.recorded[pow_order])
    source = draw_graph(x.grad).source
    where, (nodes, _) = clusters(source), parse_dot(source)
    inner = {where[key][-1] for key in where if len(where[key]) == 2}
    assert "backward of Pow" in inner and inner <= {"backward of Pow", "backward of Sum"}
    for key, place in where.items():  # what Pow's backward made (3 * x**2): no forward op left
        if nodes[key].get("shape") == "ellipse":
            assert place[:1] == ("gradient graph",)


@pytest.mark.needs_dot
def test_gradient_graph_renders_with_both_clusters(tmp_path):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.name = "x"
    (grad,) = tl.autograd.grad(
        power_by_products(x, 3), x, grad_outputs=Tensor(np.ones(2)), create_graph=True
    )
    svg = render(draw_graph(grad), tmp_path / "grad.svg").read_text()
    for title in ("forward graph", "gradient graph", "backward of Mul (1)", "backward of Mul (2)"):
        assert f">{title}</text>" in svg
