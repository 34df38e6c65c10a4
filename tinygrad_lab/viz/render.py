"""`render`: a drawn graph to an SVG, PNG or PDF file, by graphviz's ``dot`` program."""

from __future__ import annotations

import os
from pathlib import Path

import graphviz

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
SOURCE_SUFFIXES = (".dot", ".gv")  # the DOT text itself, no `dot` needed
INSTALL_HINT = (
    "install the system package graphviz (Debian/Ubuntu: `apt-get install graphviz`, "
    "macOS: `brew install graphviz`, conda: `conda install graphviz`)"
)


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` executable is not on PATH, so a graph cannot be laid out."""


def output_format(path: str | os.PathLike) -> str:
    """The format ``render`` writes for ``path``, from its suffix; a clear error otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    if suffix in SOURCE_SUFFIXES:
        return "dot"
    known = ", ".join(list(FORMATS) + list(SOURCE_SUFFIXES))
    raise ValueError(
        f"render: cannot tell the format of {str(path)!r} from its suffix "
        f"{suffix or '(none)'}; expected one of {known}"
    )


def render(graph: graphviz.Digraph | graphviz.Graph, path: str | os.PathLike) -> Path:
    """Write ``graph`` to ``path`` in the format its suffix names (.svg, .png, .pdf; .dot/.gv
    for the DOT source). Returns the path.

    Without graphviz's ``dot`` program this raises `GraphvizNotFoundError` naming the package
    to install, after writing the DOT source beside ``path`` (same name, ``.dot`` suffix); the
    source also stays available as ``graph.source``.
    """
    if not isinstance(graph, graphviz.Graph | graphviz.Digraph):
        raise TypeError(f"render: expected a graphviz graph, got {type(graph).__name__}")
    path = Path(path)
    fmt = output_format(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"render: directory {str(path.parent)!r} does not exist")
    if fmt == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return path
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        source_path = path.with_suffix(".dot")
        source_path.write_text(graph.source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"render: graphviz's `dot` program was not found on PATH, so {path.name} could not "
            f"be made; {INSTALL_HINT}. The DOT source was written to {source_path}"
        ) from None
    path.write_bytes(data)
    return path
