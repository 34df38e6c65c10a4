"""`explore`: step through backward in the browser, one node at a time.

One self-contained HTML file: the graph as ``draw_graph`` lays it out (rendered by graphviz's
``dot``), the backward trace as JSON, and a small plain-JavaScript player (``explorer.js``).
Nothing is fetched from the network; the page opens from disk in any browser and shows inline in
Jupyter::

    with tl.record_sites():                 # ops remember their layer and code line
        loss = loss_fn(model(X), y)
    tl.explore(loss, model=model, path="backprop.html")

Given a loss, ``explore`` runs backward itself under ``trace_backward`` and keeps every tensor's
gradient; it leaves the graph and every ``.grad`` as it found them, so ``loss.backward()`` and
the optimizer step can follow as usual. Or give a trace already recorded with
``retain_grads(loss)`` before its backward: ``explore(trace, loss=loss)``.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import string
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import graphviz

from tinygrad_lab.nn.module import Module
from tinygrad_lab.viz.draw import DEFAULT_MAX_NODES, draw_graph
from tinygrad_lab.viz.explore_data import Recorded, explorer_data, recorded
from tinygrad_lab.viz.render import INSTALL_HINT, GraphvizNotFoundError

HTML_SUFFIXES = (".html", ".htm")
ASSETS = ("explorer.html", "explorer.css", "explorer.js")  # package data of tinygrad_lab.viz
NOTEBOOK_HEIGHT = 760  # pixels of the iframe a notebook shows the page in


@dataclass(frozen=True)
class ExplorerPage:
    """The explorer as one HTML page: ``.html``, ``.save(path)``; shows inline in Jupyter."""

    html: str = field(repr=False)
    data: dict[str, Any] = field(repr=False, compare=False)  # the JSON the page embeds

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (.html): to a temporary file beside it, then renamed, so
        a failed write leaves nothing half-written. Returns the path."""
        path = html_path(path)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.html)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; a page is for sharing
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return path

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" title="backprop explorer" '
            f'style="width:100%;height:{NOTEBOOK_HEIGHT}px;border:1px solid #ccc"></iframe>'
        )

    def __repr__(self) -> str:
        meta = self.data["meta"]
        return f"ExplorerPage({meta['steps']} backward steps, {len(self.html) / 1024:.0f} KiB)"


def explore(
    loss_or_trace: Any,
    model: Module | None = None,
    path: str | os.PathLike | None = None,
    *,
    loss: Any = None,
    title: str | None = None,
    made_at: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> ExplorerPage:
    """The backprop explorer of a loss (or of a recorded trace and its ``loss=``).

    - ``model``: names parameters and draws one cluster per layer; the forward must then have
      run inside ``record_sites()`` (without it the page shows no code lines either);
    - ``path``: also write the page there (.html), atomically;
    - ``title``: a line under the page's heading; ``max_nodes``: draw_graph's node budget;
    - ``made_at``: what the panel's "made at" says for every op, in place of its code line:
      for a page a program makes, whose code line would be the program's own, say what the
      page shows and the command that made it.
    """
    target = html_path(path, "explore: path") if path is not None else None
    if made_at is not None and not isinstance(made_at, str):
        raise TypeError(f"explore: made_at must be a str or None, got {type(made_at).__name__}")
    rec = recorded(loss_or_trace, model, loss)
    data = explorer_data(rec, max_nodes, made_at)
    page = ExplorerPage(page_html(data, graph_svg(rec, max_nodes), title or _title(data)), data)
    if target is not None:
        page.save(target)
    return page


def html_path(path: str | os.PathLike, argument: str = "path") -> Path:
    """``path`` if a page can be written there: an .html name in a writable folder. Otherwise
    a one-line ValueError or OSError that starts with ``argument`` (what the caller calls it)."""
    path = Path(path)
    if path.suffix.lower() not in HTML_SUFFIXES:
        raise ValueError(f"{argument} {str(path)!r} must end in .html (the page is one HTML file)")
    folder = path.parent
    if path.is_dir():
        raise IsADirectoryError(f"{argument} {str(path)!r} is a folder, not a file name")
    if not folder.exists():
        raise FileNotFoundError(f"{argument} {str(path)!r}: folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{argument} {str(path)!r}: {str(folder)!r} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise type(err)(
            f"{argument} {str(path)!r}: cannot write in {str(folder)!r}: {err.strerror or err}"
        ) from None
    return path


def graph_svg(rec: Recorded, max_nodes: int = DEFAULT_MAX_NODES) -> str:
    """The graph as ``draw_graph`` draws it (layer clusters when the model has children), as an
    inline ``<svg>`` element laid out by graphviz's ``dot``."""
    layers = rec.model is not None and bool(list(rec.model.named_children()))
    graph = draw_graph(rec.loss, model=rec.model, layers=layers, max_nodes=max_nodes)
    try:
        svg = graph.pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(
            f"explore: graphviz's `dot` program was not found on PATH, so the graph cannot be "
            f"laid out; {INSTALL_HINT}"
        ) from None
    return svg[svg.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML


def page_html(data: dict[str, Any], svg: str, title: str) -> str:
    """The page: the template with the CSS, the SVG, the data and the script filled in."""
    css, script = _asset("explorer.css"), _asset("explorer.js")
    if "</script" in script.lower() or "</style" in css.lower():
        raise RuntimeError("explore: an asset contains a closing tag and cannot be inlined")
    payload = json.dumps(data, allow_nan=False, separators=(",", ":"))
    # inside <script type="application/json">: no "</script>" or "<!--" can end it early
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return string.Template(_asset("explorer.html")).substitute(
        title=html.escape(title), css=css, svg=svg, data=payload, script=script
    )


def _asset(name: str) -> str:
    return resources.files("tinygrad_lab.viz").joinpath(name).read_text(encoding="utf-8")


def _title(data: dict[str, Any]) -> str:
    meta = data["meta"]
    loss = meta["loss"]
    loss_text = f"{loss:.4g}" if isinstance(loss, float) else loss
    return (
        f"loss {loss_text} · {meta['steps']} backward steps · "
        f"{meta['saved_bytes']:,} bytes saved for backward"
    )
