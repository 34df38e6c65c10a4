"""The backward trace and the memory tables: what each node received, sent and kept."""

import csv

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lab as tl
from tinygrad_lab import nn
from tinygrad_lab.grad_mode import state
from tinygrad_lab.trace import memory_by_layer, saved_memory, trace_backward
from tinygrad_lab.viz import draw_graph


def lab_model(seed=0, width=12, hidden=5):
    """The lab's network for roll 102303346 (3 → 12×5 → 1, ReLU, U(-1/7, 1/7)) on its data."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, (40, 3))
    y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - 0.8 * X[:, 2]).reshape(-1, 1)
    sizes, layers = [3] + [width] * hidden + [1], []
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out, init=nn.init.uniform(-1 / 7, 1 / 7), rng=rng))
        layers += [nn.ReLU()] if k < hidden else []
    return nn.Sequential(*layers), tl.Tensor(X), tl.Tensor(y)


def test_lab_trace_reads_like_the_notebooks_backward_loop():
    model, X, y = lab_model()
    with trace_backward(model) as trace:
        loss = nn.MSELoss()(model(X), y)
        loss.backward()
    ops = [(r.op, r.layer) for r in trace.records]
    assert ops[0] == ("MSE", "MSELoss")
    linear = [layer for op, layer in ops if op == "Affine"]
    assert linear == [f"{i}:Linear" for i in range(10, -1, -2)]  # output layer first
    relu = [layer for op, layer in ops if op == "ReLU"]
    assert relu == [f"{i}:ReLU" for i in range(9, 0, -2)]
    assert all(r.site.startswith("test_trace.py:") for r in trace.records)


def test_trace_norms_and_saved_bytes_are_what_backward_used():
    model, X, y = lab_model()
    outputs = {}
    for index in (0, 10):
        model[index].register_forward_hook(
            lambda m, i, out, index=index: outputs.__setitem__(index, out.retain_grad())
        )
    with trace_backward(model) as trace:
        loss = nn.MSELoss()(model(X), y)
        saved = {id(ctx): ctx.saved_nbytes() for ctx in _nodes(loss)}
        loss.backward()
    by_layer = {r.layer: r for r in trace.records if r.op == "Affine"}
    last, first = by_layer["10:Linear"], by_layer["0:Linear"]
    assert np.isclose(last.grad_in_norm, np.linalg.norm(outputs[10].grad))
    assert np.isclose(first.grad_in_norm, np.linalg.norm(outputs[0].grad))
    weight_norm = float(first.grad_out_norms.split(", ")[1])
    assert np.isclose(weight_norm, np.linalg.norm(model[0].weight.grad), rtol=1e-2)
    assert first.grad_out_norms.split(", ")[0] == "—"  # X needs no gradient
    assert sorted(r.saved_bytes for r in trace.records) == sorted(saved.values())
    assert trace.total_saved_bytes == sum(saved.values())
    assert last.saved_bytes == X.shape[0] * 12 * 8 + 12 * 8  # x (40×12) and W (12×1), float64


def _nodes(tensor):
    seen, stack, out = set(), [tensor], []
    while stack:
        ctx = stack.pop()._ctx
        if ctx is not None and id(ctx) not in seen:
            seen.add(id(ctx))
            out.append(ctx)
            stack.extend(ctx.parents)
    return out


def test_trace_prints_as_a_table_and_gives_csv_and_pandas(tmp_path):
    model, X, y = lab_model()
    with trace_backward(model) as trace:
        nn.MSELoss()(model(X), y).backward()
    text = str(trace)
    assert text.splitlines()[0].split()[:3] == ["order", "op", "layer"]
    assert len(text.splitlines()) == len(trace) + 3
    trace.to_csv(tmp_path / "trace.csv")
    with open(tmp_path / "trace.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "order" and len(rows) == len(trace) + 1
    frame = trace.to_pandas()
    assert list(frame["op"]) == [r.op for r in trace.records]
    assert trace._repr_markdown_().startswith("| order | op |")


def test_draw_graph_numbers_nodes_in_visit_order():
    model, X, y = lab_model()
    with trace_backward(model) as trace:
        loss = nn.MSELoss()(model(X), y)
        loss.backward()
    source = draw_graph(loss, model=model, trace=trace).source
    for order in range(1, len(trace) + 1):
        assert f"#{order}" in source


def test_not_tracing_records_nothing_and_restores_state():
    model, X, y = lab_model()
    loss = nn.MSELoss()(model(X), y)
    assert all(ctx.site is None and ctx.module is None for ctx in _nodes(loss))
    with trace_backward(model):
        pass
    assert state.backward_observers == [] and state.record_sites is False
    with pytest.raises(ZeroDivisionError), trace_backward(model):
        raise ZeroDivisionError
    assert state.backward_observers == [] and state.record_sites is False


@given(width=st.integers(1, 16), batch=st.integers(1, 64), depth=st.integers(1, 4))
def test_memory_grows_with_depth_width_and_batch_and_is_zero_under_no_grad(width, batch, depth):
    layers = [nn.Linear(3, width, rng=0), nn.ReLU()]
    for k in range(depth - 1):
        layers += [nn.Linear(width, width, rng=k + 1), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(width, 1, rng=99))
    X = tl.Tensor(np.ones((batch, 3)))
    memory = memory_by_layer(model, X)
    assert memory["no_grad_total"] == 0
    assert memory["per_layer"]["0:Linear"] == batch * 3 * 8 + 3 * width * 8  # x and W saved
    assert memory["per_layer"]["1:ReLU"] == batch * width * 8  # its input, for the mask
    assert memory["total"] == sum(memory["per_layer"].values())
    assert len(memory["per_layer"]) == len(model)


def test_saved_memory_is_zero_after_backward_releases_the_graph():
    model, X, y = lab_model()
    with trace_backward(model):
        loss = nn.MSELoss()(model(X), y)
    assert sum(saved_memory(loss, model).values()) > 0
    loss.backward()
    assert sum(saved_memory(loss, model).values()) == 0
