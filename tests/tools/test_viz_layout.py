"""Which program lays graphs out: the system's `dot` when it is on PATH, else graphviz-pure (the
`draw` extra), else a clear error naming both ways to get one. Each machine is made by a PATH of
its own: a folder of links to the real programs."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import numpy as np
import pytest
from needs import graphviz_pure
from viz_helpers import mlp, mlp_loss

import tinygrad_lab as tl
from tinygrad_lab.viz import GraphvizNotFoundError, draw_graph, render, retain_grads
from tinygrad_lab.viz.render import layout_command, layout_program

SVG = "{http://www.w3.org/2000/svg}"


def machine(monkeypatch, tmp_path: Path, *programs: str) -> Path:
    """PATH holds only links to ``programs`` ("dot", "graphviz-pure") and the shell's tools."""
    real = {"dot": shutil.which("dot"), "graphviz-pure": graphviz_pure()}
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in programs:
        (folder / name).symlink_to(real[name])
    monkeypatch.setenv("PATH", str(folder))
    return folder


def lab_like_graph():
    model = mlp(np.random.default_rng(0))
    with tl.record_sites():
        loss = mlp_loss(model, np.random.default_rng(1))
    retain_grads(loss).backward()
    return model, draw_graph(loss, model, grads=True, layers=True)


def drawn(svg_root: ET.Element) -> tuple[set[str], int]:
    titles = {t.text for t in svg_root.iter(f"{SVG}title")}
    return titles, len(svg_root.findall(f".//{SVG}g[@class='edge']"))


@pytest.mark.needs_system_dot
@pytest.mark.needs_graphviz_pure
def test_the_system_dot_is_preferred_when_both_are_there(monkeypatch, tmp_path):
    folder = machine(monkeypatch, tmp_path, "dot", "graphviz-pure")
    assert layout_program() == str(folder / "dot")
    assert [str(a) for a in layout_command("dot", "svg")] == ["dot", "-Kdot", "-Tsvg"]


@pytest.mark.needs_graphviz_pure
def test_without_dot_graphviz_pure_lays_out_every_drawing(monkeypatch, tmp_path):
    _, graph = lab_like_graph()
    folder = machine(monkeypatch, tmp_path, "graphviz-pure")
    assert layout_program() == str(folder / "graphviz-pure")
    assert layout_command("dot", "svg")[:2] == [str(folder / "graphviz-pure"), "-q"]
    svg = ET.parse(render(graph, tmp_path / "g.svg")).getroot()
    texts = "".join(svg.itertext())
    assert "0.weight (3×5)" in texts and "Linear 0" in texts
    assert render(graph, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the graphviz package's own calls go through it too: Digraph.render, and Jupyter's picture
    written = graph.render(tmp_path / "own", format="svg")
    assert Path(written).read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert "<svg" in graph._repr_mimebundle_()["image/svg+xml"]


@pytest.mark.needs_system_dot
@pytest.mark.needs_graphviz_pure
def test_graphviz_pure_draws_the_nodes_and_edges_dot_draws(monkeypatch, tmp_path):
    _, graph = lab_like_graph()
    by_dot = drawn(ET.fromstring(graph.pipe(format="svg")))
    machine(monkeypatch, tmp_path, "graphviz-pure")
    by_pure = drawn(ET.fromstring(graph.pipe(format="svg")))
    assert by_pure == by_dot and by_dot[1] > 10


@pytest.mark.needs_graphviz_pure
def test_without_dot_the_explorer_is_laid_out_by_graphviz_pure(monkeypatch, tmp_path):
    model, _ = lab_like_graph()
    with tl.record_sites():
        loss = mlp_loss(model, np.random.default_rng(1))
    machine(monkeypatch, tmp_path, "graphviz-pure")
    page = tl.explore(loss, model=model, path=tmp_path / "page.html")
    html = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert html == page.html and "<svg" in html and "Linear 0" in html


@pytest.mark.needs_graphviz_pure
def test_graphviz_pure_refuses_pdf_naming_the_system_package(monkeypatch, tmp_path):
    _, graph = lab_like_graph()
    machine(monkeypatch, tmp_path, "graphviz-pure")
    with pytest.raises(GraphvizNotFoundError, match=r"needs graphviz's own `dot`.*SVG and PNG"):
        render(graph, tmp_path / "g.pdf")
    assert os.listdir(tmp_path) == ["bin"]
    # through the graphviz package (and commands built on it) PDF asks for `dot` by name
    assert [str(a) for a in layout_command("dot", "pdf")] == ["dot", "-Kdot", "-Tpdf"]
    with pytest.raises(graphviz.ExecutableNotFound):
        graph.pipe(format="pdf")


def test_with_neither_the_error_names_both_ways_to_get_one(monkeypatch, tmp_path):
    _, graph = lab_like_graph()
    machine(monkeypatch, tmp_path)
    assert layout_program() is None
    assert [str(a) for a in layout_command("dot", "svg")][0] == "dot"  # graphviz's own error
    with pytest.raises(GraphvizNotFoundError) as info:
        render(graph, tmp_path / "g.svg")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "pip install 'tinygrad_lab[draw]'" in message and "graphviz-pure" in message
    with pytest.raises(GraphvizNotFoundError, match=r"tinygrad_lab\[draw\]"):
        tl.explore(mlp_loss(mlp(np.random.default_rng(0)), np.random.default_rng(1)))
