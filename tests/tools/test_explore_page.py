"""The explorer page as a file: one self-contained HTML document that embeds the SVG, the data,
the script and the style, fetches nothing, and shows inline in Jupyter."""

from __future__ import annotations

import configparser
import html
import importlib
import json
import re
from pathlib import Path

import pytest
from explorer_helpers import lab_loss

import tinygrad_lab as tl
from tinygrad_lab.viz import ExplorerPage, explore

ASSETS = importlib.import_module("tinygrad_lab.viz.explore").ASSETS  # the function shadows it

PACKAGE = Path(tl.__file__).parent
ROOT = PACKAGE.parent


@pytest.fixture(scope="module")
def page() -> ExplorerPage:  # laid out by `dot`: a test that takes it is marked needs_dot
    model, loss = lab_loss(n_samples=40)
    return explore(loss, model=model, title="roll 102303346 <seed 0>")


def embedded_data(text: str) -> dict:
    match = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', text)
    return json.loads(match.group(1))


@pytest.mark.needs_dot
def test_the_page_embeds_svg_data_script_and_style(page):
    text = page.html
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") >= 1
    assert embedded_data(text) == page.data
    assert (PACKAGE / "viz" / "explorer.js").read_text() in text
    assert (PACKAGE / "viz" / "explorer.css").read_text() in text
    assert text.count('<g id="node') == len(page.data["ops"]) + len(page.data["tensors"])
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text


@pytest.mark.needs_dot
def test_the_page_fetches_nothing(page):
    text = page.html
    assert re.findall(r"""(?:src|href)\s*=\s*["'](?!data:|#)""", text) == []
    assert not re.search(r"url\(\s*['\"]?(?!data:)", text)  # no CSS fetch either
    assert "default-src 'none'" in text  # and the browser is told to refuse any fetch
    assert "http://www.w3.org" in text  # only XML namespaces name a web address
    addresses = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert all(a.startswith(("http://www.w3.org/", "https://www.w3.org/")) for a in addresses)


@pytest.mark.needs_dot
def test_text_from_the_graph_cannot_break_out_of_the_page(tmp_path):
    x = tl.Tensor([1.0, 2.0], requires_grad=True)
    x.name = "</script><script>alert(1)</script>"
    text = explore((x * x).sum(), title="<b>title</b>").html
    assert "<script>alert(1)" not in text
    assert "&lt;b&gt;title&lt;/b&gt;" in text
    assert embedded_data(text)["tensors"]["t0"]["name"] == x.name


@pytest.mark.needs_dot
def test_the_title_defaults_to_the_loss_and_the_work_of_backward(page):
    model, loss = lab_loss(n_samples=40)
    text = explore(loss, model=model).html
    assert re.search(r"loss \d\.\d+ · 12 backward steps · [\d,]+ bytes saved for backward", text)
    assert "roll 102303346 &lt;seed 0&gt;" in page.html


@pytest.mark.needs_dot
def test_a_notebook_shows_it_in_an_iframe(page):
    frame = page._repr_html_()
    assert frame.startswith('<iframe srcdoc="') and "<script" not in frame
    srcdoc = re.match(r'<iframe srcdoc="([^"]*)"', frame).group(1)
    assert html.unescape(srcdoc) == page.html
    assert repr(page).startswith("ExplorerPage(12 backward steps, ")


@pytest.mark.needs_dot
def test_save_and_path_write_the_same_page(page, tmp_path):
    saved = page.save(tmp_path / "page.html")
    assert saved.read_text(encoding="utf-8") == page.html
    assert oct(saved.stat().st_mode & 0o777) == "0o644"
    model, loss = lab_loss(n_samples=40)
    explore(loss, model=model, path=tmp_path / "again.html", title="roll 102303346 <seed 0>")
    assert (tmp_path / "again.html").read_text(encoding="utf-8") == page.html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.html", "page.html"]


def test_the_page_files_are_package_data():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = {
        name.strip() for name in config["options.package_data"]["tinygrad_lab.viz"].split(",")
    }
    assets = {p.name for p in (PACKAGE / "viz").iterdir() if p.suffix in (".js", ".css", ".html")}
    assert listed == assets == set(ASSETS) == {"explorer.js", "explorer.css", "explorer.html"}


def test_explore_is_a_top_level_tool():
    assert tl.explore is tl.viz.explore and "explore" in tl.__all__ and "explore" in dir(tl)
