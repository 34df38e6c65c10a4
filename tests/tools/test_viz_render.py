"""Rendering: DOT goes through the real `dot` to SVG (valid XML), PNG and PDF; a missing `dot`
names the package to install and leaves the DOT source; big graphs render within the budget."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from viz_helpers import (
    chain,
    count_graph,
    hide_dot,
    mlp,
    mlp_loss,
    parse_dot,
)

import tinygrad_lab
from tinygrad_lab import Tensor
from tinygrad_lab.viz import GraphvizNotFoundError, draw_graph, render, retain_grads


@pytest.mark.needs_dot
def test_a_5000_node_graph_renders_within_the_node_budget(tmp_path):
    root = chain(2500)
    assert sum(count_graph(root)[:2]) == 5001
    graph = draw_graph(root)
    nodes, _ = parse_dot(graph.source)
    assert len(nodes) <= tinygrad_lab.viz.draw.DEFAULT_MAX_NODES
    svg = ET.parse(render(graph, tmp_path / "chain.svg")).getroot()
    drawn = svg.findall(".//{http://www.w3.org/2000/svg}g[@class='node']")
    assert len(drawn) == len(nodes)


# ----------------------------------------------------------------------------- formats
@pytest.mark.needs_system_dot  # PDF: graphviz-pure writes SVG and PNG only
def test_renders_svg_png_pdf_with_the_real_dot(tmp_path):
    model = mlp(np.random.default_rng(0))
    loss = mlp_loss(model, np.random.default_rng(1))
    retain_grads(loss).backward()
    graph = draw_graph(loss, model, grads=True, layers=True)
    svg = ET.parse(render(graph, tmp_path / "g.svg")).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    texts = "".join(svg.itertext())
    assert "0.weight (3×5)" in texts and "Linear 0" in texts
    assert (tmp_path / "g.png").exists() is False
    assert render(graph, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render(graph, tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"
    assert "image/svg+xml" in graph._repr_mimebundle_()  # shows inline in Jupyter


def test_render_rejects_an_unknown_suffix_before_writing(tmp_path):
    graph = draw_graph((Tensor(np.ones(2), requires_grad=True) * 2).sum())
    with pytest.raises(ValueError, match=r"\.jpg.*\.svg, \.png, \.pdf"):
        render(graph, tmp_path / "g.jpg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render(graph, tmp_path / "missing" / "g.svg")
    assert list(tmp_path.iterdir()) == []
    assert render(graph, tmp_path / "g.dot").read_text() == graph.source


def test_missing_dot_names_the_package_and_writes_the_source(monkeypatch, tmp_path):
    graph = draw_graph((Tensor(np.ones(2), requires_grad=True) * 2).sum())
    hide_dot(monkeypatch, tmp_path)
    with pytest.raises(GraphvizNotFoundError) as info:
        render(graph, tmp_path / "g.svg")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert str(tmp_path / "g.dot") in message
    assert (tmp_path / "g.dot").read_text() == graph.source
    assert not (tmp_path / "g.svg").exists()
