"""docs/graphs.md's explorer section: its three-line example runs after the page's other
examples (it is fenced as ``py``, not ``python``, so that neither the site's build nor
tests/test_docs.py runs it and leaves a backprop.html behind), and the screenshot it shows is
there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "graphs.md"


def explorer_section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    return text.split("## Step through backward in the browser\n", 1)[1].split("\n## ", 1)[0]


@pytest.mark.needs_dot
def test_the_page_s_example_writes_a_page_after_the_other_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the example writes backprop.html where it runs
    (example,) = re.findall(r"```py\n(.*?)```", explorer_section(), flags=re.S)
    assert len(example.strip().splitlines()) == 3
    namespace: dict = {}
    for block in re.findall(r"```python[^\n]*\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S):
        exec(compile(block, str(PAGE), "exec"), namespace)  # noqa: S102
    exec(compile(example, str(PAGE), "exec"), namespace)  # noqa: S102
    page = (tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Backprop explorer" in page
    assert "1:Scale" in page  # the page's own layer, in its cluster and the trace


def test_the_page_shows_the_explorer_screenshot():
    (image,) = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", explorer_section())
    assert image == "explorer.png"
    assert (PAGE.parent / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
