"""Jupyter displays: Tensors, Modules, the recorder and traces as Markdown tables."""

import numpy as np

import tinygrad_lab as tl
from tinygrad_lab import nn
from tinygrad_lab.trace import trace_backward


def table_rows(markdown):
    return [line for line in markdown.splitlines() if line.startswith("|")][2:]


def test_module_shows_one_row_a_layer_with_shapes_and_counts():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 1, rng=1))
    text = model._repr_markdown_()
    rows = table_rows(text)
    assert len(rows) == len(model)
    assert "Linear(3 → 4)" in rows[0] and "weight (3, 4)" in rows[0] and rows[0].endswith("16 |")
    assert f"{model.num_parameters():,} parameters" in text


def test_recorder_shows_the_last_step_per_layer():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 1, rng=1))
    recorder = nn.GradientRecorder(model)
    nn.MSELoss()(model(tl.Tensor(np.ones((5, 3)))), tl.Tensor(np.zeros((5, 1)))).backward()
    text = recorder._repr_markdown_()
    rows = table_rows(text)
    assert [r.split(" | ")[0] for r in rows] == ["| 0:Linear", "| 1:ReLU", "| 2:Linear"]
    weight = recorder.at_step()["2:Linear"]["weight_grad_norm"]
    assert f"{weight:.4g}" in rows[2]


def test_trace_shows_one_row_a_node():
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh())
    with trace_backward(model) as trace:
        model(tl.Tensor(np.ones((4, 3)))).sum().backward()
    rows = table_rows(trace._repr_markdown_())
    assert len(rows) == len(trace) == 3
    assert rows[0].startswith("| 1 | Sum |")


def test_tensor_shows_its_facts_and_small_values_as_a_table():
    t = tl.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (t * 2).sum().backward()
    text = t._repr_markdown_()
    assert text.splitlines()[0] == (
        f"**Tensor** shape (2, 3) · float64 · requires grad · ‖grad‖ = {np.linalg.norm(t.grad):.4g}"
    )
    assert table_rows(text) == ["| 0 | 1 | 2 |", "| 3 | 4 | 5 |"]
    big = tl.Tensor(np.linspace(-1, 3, 1000))._repr_markdown_()
    assert "min -1 · mean 1 · max 3" in big and "|" not in big
