"""The lab's graph command: the roll's network on the lab's data, drawn and rendered."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from viz_helpers import CLUSTER_LABEL, hide_dot

from tinygrad_lab import Tensor, nn
from tinygrad_lab.lab.rules import lab_config
from tinygrad_lab.lab.stress.graph import graph_command, lab_graph
from tinygrad_lab.lab.stress.network import build_network
from tinygrad_lab.lab.stress.part_a import make_data
from tinygrad_lab.viz import GraphvizNotFoundError

ROLL = "102303346"


def test_lab_graph_draws_the_rolls_network_on_the_lab_data():
    config = lab_config(ROLL)
    graph = lab_graph(ROLL, seed=3, layers=True, grads=True)
    # the same network and data, built here: X first from the seed's generator, then weights
    rng = np.random.RandomState(3)
    X, y = make_data(rng)
    np.testing.assert_array_equal(y[:, 0], np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - 0.8 * X[:, 2])
    model = build_network(config, rng)
    nn.MSELoss()(model(Tensor(X)), Tensor(y)).backward()
    source = graph.source
    clusters = CLUSTER_LABEL.findall(source)
    assert clusters == [f"{type(m).__name__} {k}" for k, m in enumerate(model)]
    width = config.hidden_width
    assert f"0.weight (3×{width})" in source and f"2.weight ({width}×{width})" in source
    norm = float(np.linalg.norm(model[0].weight.grad))
    assert f"‖grad‖ {norm:.2e}" in source
    assert "X (400×3)" in source and "loss (scalar)" in source


@pytest.mark.needs_dot
def test_graph_command_renders_to_the_requested_file(tmp_path):
    out = graph_command(ROLL, tmp_path / "graph.svg", layers=True, grads=True, seed=0)
    assert out == tmp_path / "graph.svg"
    assert "Linear 0" in "".join(ET.parse(out).getroot().itertext())
    with pytest.raises(ValueError, match="suffix"):
        graph_command(ROLL, tmp_path / "graph.txt", layers=False, grads=False, seed=0)
    assert not (tmp_path / "graph.txt").exists()


def test_graph_command_without_dot_writes_the_source(monkeypatch, tmp_path):
    hide_dot(monkeypatch, tmp_path)
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        graph_command(ROLL, tmp_path / "graph.png", layers=True, grads=False, seed=0)
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
