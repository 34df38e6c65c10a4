"""`render`: a drawn graph to an SVG, PNG or PDF file, laid out by graphviz's ``dot`` program,
or, where the system has no ``dot``, by graphviz-pure, a port of ``dot`` that pip installs
(``pip install 'tinygrad_lab[draw]'``).

Every drawing goes through the ``graphviz`` package (``graph.pipe``, ``graph.render``, the inline
picture in Jupyter), which runs ``dot`` by name. Importing this module points that one command
line (`layout_command`) at the program `layout_program` finds at the time of each call: the
system's ``dot`` first, else ``graphviz-pure``. With neither on PATH the command is left as it
was, so the ``graphviz`` package's own `graphviz.ExecutableNotFound` still says what is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import graphviz
from graphviz.backend import dot_command

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
SOURCE_SUFFIXES = (".dot", ".gv")  # the DOT text itself, no `dot` needed
PURE = "graphviz-pure"  # the command graphviz-pure's wheel installs (it never installs a `dot`)
PURE_FORMATS = ("svg", "png")  # of FORMATS', what graphviz-pure writes (no PDF yet)
# every format graphviz-pure 0.2 writes, as `graphviz-pure -T?` lists them; others need `dot`
_PURE_T = "canon dot dot_json gv jpe jpeg jpg json json0 plain plain-ext png svg xdot xdot1.2 "
PURE_WRITES = frozenset((_PURE_T + "xdot1.4 xdot_json").split())
INSTALL_HINT = (
    "install the system package graphviz (Debian/Ubuntu: `apt-get install graphviz`, "
    "macOS: `brew install graphviz`, conda: `conda install graphviz`), "
    f"or `pip install 'tinygrad_lab[draw]'` for {PURE}, a port of dot that pip installs"
)


class GraphvizNotFoundError(RuntimeError):
    """No program on PATH lays the graph out in the format asked: neither graphviz's ``dot`` nor
    graphviz-pure, or graphviz-pure alone for a format only ``dot`` writes (PDF)."""


def layout_program() -> str | None:
    """The path of the program that lays graphs out: graphviz's ``dot`` when it is on PATH (the
    system's wins), else ``graphviz-pure``; None when neither is."""
    return shutil.which("dot") or shutil.which(PURE)


_GRAPHVIZ_COMMAND = dot_command.command


def layout_command(engine: str, format_: str, **kwargs) -> list:
    """The ``graphviz`` package's command line for ``dot``, run by graphviz-pure when the system
    has no ``dot`` and graphviz-pure writes ``format_`` (for PDF the command stays ``dot``, so
    that the ``graphviz`` package's `graphviz.ExecutableNotFound` says ``dot`` is missing).
    ``-q``: graphviz-pure, like ``dot`` built without a text layout library, warns on stderr
    about every non-ASCII character's width (×, ·, ‖)."""
    cmd = _GRAPHVIZ_COMMAND(engine, format_, **kwargs)
    if shutil.which("dot") is None and format_ in PURE_WRITES and (pure := shutil.which(PURE)):
        return [pure, "-q", *cmd[1:]]
    return cmd


dot_command.command = layout_command  # the one place every graphviz call builds its command


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

    Laid out by graphviz's ``dot``, else by graphviz-pure (SVG and PNG only). Without either this
    raises `GraphvizNotFoundError` naming both ways to get one, after writing the DOT source
    beside ``path`` (same name, ``.dot`` suffix); the source also stays available as
    ``graph.source``.
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
    program = layout_program()
    if program is not None and Path(program).stem == PURE and fmt not in PURE_FORMATS:
        raise GraphvizNotFoundError(
            f"render: {path.name} needs graphviz's own `dot`: {PURE}, the layout program found "
            f"on PATH, writes {' and '.join(f.upper() for f in PURE_FORMATS)} only; install the "
            "system package graphviz (`apt-get install graphviz`, `brew install graphviz`), or "
            "render to .svg or .png"
        )
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        source_path = path.with_suffix(".dot")
        source_path.write_text(graph.source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"render: graphviz's `dot` program was not found on PATH, nor {PURE}, so "
            f"{path.name} could not be made; {INSTALL_HINT}. The DOT source was written to "
            f"{source_path}"
        ) from None
    path.write_bytes(data)
    return path
