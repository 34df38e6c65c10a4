"""The explorer's JSON payload: backward's visit order and numbers are the trace's, norms are
numpy's, colours are draw_graph's, and recording it leaves the graph and every .grad alone."""

from __future__ import annotations

import inspect
import json
import textwrap

import numpy as np
import pytest
from explorer_helpers import arrival_steps, lab_loss, node_ids, python_trace
from hypothesis import given
from hypothesis import strategies as st
from viz_helpers import mlp, parse_dot

import tinygrad_lab as tl
from tinygrad_lab import Tensor, nn
from tinygrad_lab.ops.matmul import Affine
from tinygrad_lab.viz import draw_graph
from tinygrad_lab.viz.explore_data import explorer_data, histogram, recorded

ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU)


def payload(loss, model=None, max_nodes=300):
    return explorer_data(recorded(loss, model), max_nodes)


def random_mlp(seed: int, widths: list[int], act) -> tuple[nn.Sequential, Tensor]:
    rng = np.random.default_rng(seed)
    model = mlp(rng, (3, *widths, 1), act=act)
    x, y = Tensor(rng.normal(size=(7, 3))), Tensor(rng.normal(size=(7, 1)))
    with tl.record_sites():
        loss = nn.MSELoss()(model(x), y)
    return model, loss


mlps = st.builds(
    random_mlp,
    st.integers(0, 2**16),
    st.lists(st.integers(1, 6), min_size=0, max_size=4),
    st.sampled_from(ACTIVATIONS),
)


@given(mlps)
def test_backward_order_and_numbers_are_the_traces(model_and_loss):
    model, loss = model_and_loss
    data = payload(loss, model)
    trace = python_trace(loss, model)
    ids = node_ids(loss)
    ops = [data["ops"][i] for i in data["backward"]]
    assert [o["backward_step"] for o in ops] == [r.order for r in trace.records]
    assert data["backward"] == sorted(
        data["backward"], key=lambda i: data["ops"][i]["backward_step"]
    )
    by_order = {order: ctx_id for ctx_id, order in trace.visit_order.items()}
    for op, record in zip(ops, trace.records, strict=True):
        assert op["id"] == ids[by_order[record.order]]
        assert (op["op"], op["layer"], op["site"]) == (record.op, record.layer, record.site)
        assert op["grad_in"] == record.grad_in_norm
        assert ", ".join("—" if g is None else f"{g:.3g}" for g in op["grad_out"]) == (
            record.grad_out_norms
        )
        assert op["saved_bytes"] == record.saved_bytes
    assert data["meta"]["steps"] == len(trace) and data["meta"]["saved_bytes"] == (
        trace.total_saved_bytes
    )


@given(mlps)
def test_every_norm_and_histogram_is_numpys(model_and_loss):
    model, loss = model_and_loss
    data = payload(loss, model)
    python_trace(loss, model)  # now every tensor holds the gradient the page shows
    for t in tl.viz.walk.tensors(loss):
        entry = data["tensors"][node_ids(loss)[id(t)]]
        assert entry["value"]["norm"] == pytest.approx(np.linalg.norm(t.data), rel=1e-12)
        assert entry["value"]["histogram"]["counts"] == _numpy_counts(t.data)
        if t.grad is None:
            assert entry["grad"] is None
            continue
        assert entry["grad"]["norm"] == pytest.approx(np.linalg.norm(t.grad), rel=1e-12)
        assert entry["grad"]["histogram"]["counts"] == _numpy_counts(t.grad)
        assert entry["grad"]["histogram"]["min"] == t.grad.min()


def _numpy_counts(array: np.ndarray) -> list[int]:
    low, high = array.min(), array.max()
    if low == high:
        return [array.size]
    return np.histogram(array, bins=16, range=(low, high))[0].tolist()


@given(mlps)
def test_a_gradient_arrives_after_the_last_op_that_sends_it_one(model_and_loss):
    model, loss = model_and_loss
    data = payload(loss, model)
    trace = python_trace(loss, model)
    arrival = arrival_steps(loss, trace)
    for t in tl.viz.walk.tensors(loss):
        entry = data["tensors"][node_ids(loss)[id(t)]]
        assert (entry["grad"] or {}).get("at") == arrival.get(id(t))
    loss_entry = data["tensors"][node_ids(loss)[id(loss)]]
    assert loss_entry["grad"]["at"] == 0 and loss_entry["kind"] == "output"


def test_gradient_colours_are_draw_graphs_log_scale():
    model, loss = lab_loss(n_samples=40)
    data = payload(loss, model)
    python_trace(loss, model)
    nodes, _ = parse_dot(draw_graph(loss, model=model, grads=True, layers=True).source)
    coloured = {k: v for k, v in data["tensors"].items() if v["grad"] is not None}
    assert len(coloured) > 20
    for node_id, entry in coloured.items():
        assert entry["grad"]["color"] == nodes[node_id]["fillcolor"], node_id
        assert entry["grad"]["font"] == nodes[node_id].get("fontcolor", "#000000")


def test_forward_order_is_data_flow_and_inputs_are_there_from_the_start():
    model, loss = lab_loss(n_samples=40)
    data = payload(loss, model)
    ids = node_ids(loss)
    ops_in_graph_order = [ids[id(ctx)] for ctx in tl.graph.nodes(loss)]
    assert data["forward"] == ops_in_graph_order
    assert [data["ops"][i]["op"] for i in data["forward"]][:2] == ["Affine", "ReLU"]
    for entry in data["tensors"].values():
        made_by = [o for o in data["ops"].values() if o["output"] == entry["id"]]
        expected = made_by[0]["forward_step"] if made_by else 0
        assert entry["value"]["at"] == expected


def test_recording_leaves_the_graph_and_every_grad_as_it_was():
    model, loss = lab_loss(n_samples=40)
    weight = model[0].weight
    weight.grad = np.full(weight.shape, 7.0)
    payload(loss, model)
    assert np.all(weight.grad == 7.0)  # not accumulated into, not cleared
    assert model[2].weight.grad is None
    assert not any(t._retains_grad for t in tl.viz.walk.tensors(loss))
    loss.backward()  # the graph is still there for the user's own backward
    assert model[2].weight.grad is not None


def test_a_recorded_trace_gives_the_same_payload_as_a_loss():
    model, loss = lab_loss(n_samples=40)
    from_loss = payload(loss, model)
    trace = python_trace(loss, model)
    assert explorer_data(recorded(trace, loss=loss), 300) == from_loss


def test_the_source_shown_is_the_ops_own_backward_and_forward():
    model, loss = lab_loss(n_samples=40)
    data = payload(loss, model)
    affine = data["sources"]["tinygrad_lab.ops.matmul.Affine"]
    assert affine["backward"] == textwrap.dedent(inspect.getsource(Affine.backward))
    assert affine["forward"].lstrip().startswith("@staticmethod\ndef forward(ctx, x, w, b=None)")
    assert {o["source"] for o in data["ops"].values()} == set(data["sources"])


def test_ops_beyond_the_node_budget_are_drawn_in_the_more_node():
    model, loss = lab_loss(n_samples=40)
    data = payload(loss, model, max_nodes=12)
    drawn = {o["drawn"] for o in data["ops"].values()} | {
        t["drawn"] for t in data["tensors"].values()
    }
    assert "more" in drawn and len(drawn) == 12
    assert data["meta"]["hidden_nodes"] == len(data["ops"]) + len(data["tensors"]) - 11
    assert data["backward"] == payload(loss, model)["backward"]  # every step is still there


def test_the_payload_is_strict_json_even_for_an_infinite_value():
    x = Tensor(np.array([np.inf, 1.0]), requires_grad=True)
    data = payload((x * 2).sum())
    text = json.dumps(data, allow_nan=False)
    assert data["meta"]["loss"] == "inf" and '"norm":"inf"' in text.replace(" ", "")
    assert data["tensors"]["t0"]["value"]["histogram"]["nonfinite"] == 1


def test_histogram_of_a_constant_array_is_one_bin():
    assert histogram(np.full((3, 2), 0.5)) == {
        "size": 6,
        "nonfinite": 0,
        "counts": [6],
        "min": 0.5,
        "max": 0.5,
        "mean": 0.5,
    }
    assert histogram(np.array([np.nan]))["counts"] == []


NARROW_OR_WIDE = [
    [0.0, 5e-324],  # the smallest float apart: no 16 bins between them
    [1.0, 1.0 + 2**-52, 1.0],  # one ulp apart
    [-1.7e308, 1.7e308, 0.0],  # a width past the largest float
    [1.7e308, 1.7e308, 1e308],  # a sum past it
]


@given(
    st.one_of(
        st.sampled_from(NARROW_OR_WIDE),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=40),
    )
)
def test_a_histogram_of_any_floats_is_numpys_or_one_bin_when_numpy_cannot_split_the_range(values):
    array = np.array(values, dtype=np.float64)
    finite = array[np.isfinite(array)]
    shown = histogram(array)
    assert shown["nonfinite"] == array.size - finite.size and sum(shown["counts"]) == finite.size
    if finite.size == 0:
        return
    assert (shown["min"], shown["max"]) == (finite.min(), finite.max())
    assert finite.min() <= shown["mean"] <= finite.max()  # finite, even when the sum is not
    json.dumps(shown, allow_nan=False)  # the page's JSON is strict
    try:
        with np.errstate(all="ignore"):
            expected = np.histogram(finite, bins=16, range=(finite.min(), finite.max()))[0]
    except ValueError:  # "Too many bins for data range": numpy cannot make 16 bins of it
        expected = [finite.size]
    if finite.min() == finite.max():
        expected = [finite.size]
    assert shown["counts"] == list(expected)


def test_every_numpy_refusal_case_is_one_bin():
    for values in NARROW_OR_WIDE[:3]:
        assert histogram(np.array(values))["counts"] == [len(values)]
    assert histogram(np.array(NARROW_OR_WIDE[3]))["mean"] == pytest.approx(
        (1.7 + 1.7 + 1.0) / 3 * 1e308
    )


def test_made_at_replaces_every_ops_code_line_and_shows_at_the_start():
    model, loss = lab_loss(n_samples=40)
    made_at = "roll 102303346 · run 2 · made by tinygrad_lab: tinygrad-lab explore --run 2"
    data = explorer_data(recorded(loss, model), 300, made_at)
    assert data["meta"]["made_at"] == made_at
    assert {op["site"] for op in data["ops"].values()} == {made_at}
    plain = payload(loss, model)
    assert plain["meta"]["made_at"] is None
    assert {op["site"] for op in plain["ops"].values()} == {
        ctx.site for ctx in tl.graph.nodes(loss)
    }
    assert all(
        site.startswith("explorer_helpers.py:")
        for site in {ctx.site for ctx in tl.graph.nodes(loss)}
    )


def test_made_at_must_be_text():
    _, loss = lab_loss(n_samples=8)
    with pytest.raises(TypeError, match="explore: made_at must be a str or None, got int"):
        tl.explore(loss, made_at=3)
