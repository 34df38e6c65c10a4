"""The documentation site's pages (docs/): every ```python block of a page runs, in order, in
one namespace a page, as the site's build runs them (mkdocs_hooks.py); what the examples show
is checked from here too; every page is in the site's nav, and every link between pages and
from the README lands on a file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
PYTHON_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", flags=re.S | re.M)
LAYS_OUT = {"graphs.md"}  # pages whose blocks lay a graph out (the picture drawn on the page)


def python_blocks(page: str) -> list[str]:
    return PYTHON_BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


def run_page(page: str) -> dict:
    namespace: dict = {}
    try:
        for block in python_blocks(page):
            exec(compile(block, str(DOCS / page), "exec"), namespace)  # noqa: S102
    finally:  # docs/ops.md registers an op of its own: no other test may see it
        from engine.test_registry import forget

        forget("softsign", "Softsign")
    return namespace


def check_layers(ns: dict) -> None:
    # the recorder saw every layer of the custom-layer example
    assert set(ns["recorder"].at_step()) == {"0:Linear", "1:Scale", "2:ReLU", "3:Linear"}
    assert ns["kernels"].grad.shape == (3, 1, 3, 3)


def check_graphs(ns: dict) -> None:
    # the trace followed backward, output layer first; the picture is an SVG with the layers
    assert [r.op for r in ns["trace"].records][:2] == ["MSE", "Affine"]
    assert "<svg" in ns["svg"] and "Scale 1" in ns["svg"]


def check_ops(ns: dict) -> None:
    x = ns["x"].data  # the method, the function and the layer: the same op, three times
    assert abs(ns["y"].data - 3 * x / (1 + abs(x))).max() < 1e-15


CHECKS = {"layers.md": check_layers, "graphs.md": check_graphs, "ops.md": check_ops}


def page_params():
    for page in PAGES:
        if not python_blocks(page):
            continue
        marks = [pytest.mark.needs_dot] if page in LAYS_OUT else []
        yield pytest.param(page, marks=marks, id=page)


@pytest.mark.parametrize("page", list(page_params()))
def test_the_python_blocks_of_each_page_run_in_sequence(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a block that writes a file writes it here
    namespace = run_page(page)
    if page in CHECKS:
        CHECKS[page](namespace)


def test_the_pages_that_teach_have_code_that_runs():
    executed = {p for p in PAGES if python_blocks(p)}
    tutorials = {"engine.md", "ops.md", "layers.md", "hooks.md", "graphs.md", "higher-order.md"}
    assert tutorials | {"lab.md", "studies.md", "digits.md", "api/cli.md"} <= executed
    assert set(CHECKS) <= executed


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config[config.index("\nnav:") :]
    entries = set(re.findall(r"(?:^\s+- |: )([\w./-]+\.md)$", nav, flags=re.M))
    assert entries == set(PAGES)


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("path", [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))], ids=str)
def test_every_relative_link_lands_on_a_file(path):
    for link in links(path):
        if re.match(r"[a-z]+:", link) or link.startswith("#"):
            continue
        target = (path.parent / link.split("#")[0]).resolve()
        assert target.exists(), f"{path.name}: {link}"


def test_the_site_hook_runs_every_python_block_and_leaves_the_others():
    sys.path.insert(0, str(ROOT))
    try:
        from mkdocs_hooks import on_page_markdown
    finally:
        sys.path.remove(str(ROOT))

    class Page:
        class file:  # noqa: N801
            src_uri = "engine.md"

    text = '```python\nx = 1\n```\n```py\nshown\n```\n```python exec="on" html="1"\nprint(1)\n```\n'
    text += "```python\nprint(x)\n```\n"
    out = on_page_markdown(text, Page())
    assert '```python exec="on" source="above" session="engine.md"\nx = 1\n' in out
    assert '```python exec="on" source="above" result="text" session="engine.md"\nprint(x)' in out
    assert '```python exec="on" html="1" session="engine.md"\n' in out
    assert "```py\nshown" in out
    assert python_blocks_of(out) == python_blocks_of(text)


def python_blocks_of(text: str) -> list[str]:
    return PYTHON_BLOCK.findall(text)
