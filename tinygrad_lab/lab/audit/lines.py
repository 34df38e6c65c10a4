"""A submission file flattened into lines, each ``"text"`` (prose), ``"code"`` or ``"output"``
(printed by code), with its place (line, and cell in a notebook), and repaired where a double
UTF-8 encoding garbled it. The extraction's tables apply to these lines, whatever the format.

In a .txt export, ``In [n]:`` starts a code cell. Its code runs on while the lines still parse
as Python (complete or unfinished). If the code can print (it calls ``print``, or ends in an
expression other than a plotting call), output begins at the first line that does not parse,
at a literal such as ``32436`` or ``np.float64(-70.0)``, or, after a blank line, at a line that
starts with the label of one of its ``print`` calls (``a = 6`` after ``print("a =", a)``);
else the line begins prose. Output ends at a blank line; prose follows until the next
``In [n]:``.
"""

from __future__ import annotations

import ast
import codeop
import dataclasses
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path


class ExtractionError(ValueError):
    """A file that cannot be read; the message names the file and the cause."""


# --- flattening a file into lines ---------------------------------------------------------
@dataclass(frozen=True)
class Line:
    text: str  # repaired, for matching
    raw: str  # as in the file
    line: int
    cell: int | None
    source: str  # "text", "code", "output" or "warning" (Python's, in the output)
    block: tuple[int, int]  # (cell, part): a cell with its output, a fenced block, prose


def _repair(text: str) -> str:
    """Undo a double UTF-8 encoding ("‚Üí" or "â†’" for "→"); other text is left alone."""
    if text.isascii():
        return text
    for codec in ("mac_roman", "cp1252"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return text


def _markdown(text: str, cell: int | None = None) -> list[Line]:
    lines, fenced, part = [], False, 0
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith(("```", "~~~")):  # a fence opens or closes a code block
            fenced, part = not fenced, part + 1
            continue
        source = "code" if fenced else "text"
        lines.append(Line(_repair(raw), raw, number, cell, source, (cell or 0, part)))
    return lines


def _output_text(outputs: list) -> str:
    text = ""
    for output in outputs:
        if output.get("output_type") == "stream":
            text += output.get("text", "")
        elif "text/plain" in output.get("data", {}):
            text += ("" if text.endswith("\n") or not text else "\n") + output.data["text/plain"]
            text += "\n"
    return text


def _notebook(text: str, name: str) -> list[Line]:
    try:
        import nbformat  # an extra: only notebooks need it
    except ImportError:
        raise ExtractionError(
            f"{name}: reading a notebook needs nbformat: pip install 'tinygrad_lab[audit]'"
        ) from None
    try:
        json.loads(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4)
        cells = list(notebook.cells)
    except Exception as exc:  # nbformat raises many kinds; all mean "not a notebook"
        raise ExtractionError(f"{name}: not a notebook: {str(exc).splitlines()[0]}") from exc
    lines: list[Line] = []
    for index, cell in enumerate(cells, 1):
        if cell.cell_type != "code":
            lines += _markdown(cell.source, index)
            continue
        for source, text in (("code", cell.source), ("output", _output_text(cell.outputs))):
            for number, raw in enumerate(text.splitlines(), 1):
                lines.append(Line(_repair(raw), raw, number, index, source, (index, 0)))
    return lines


def parse_code(code: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _python(code: str) -> str:
    """Whether ``code`` is "complete", "incomplete" (unfinished, so far valid) or "invalid"."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = codeop.compile_command(code, "<cell>", "exec")
    except (SyntaxError, ValueError, OverflowError):
        return "invalid"
    return "complete" if compiled else "incomplete"


def print_calls(code: str) -> list[ast.Call]:
    tree = parse_code(code)
    nodes = ast.walk(tree) if tree else ()
    return [n for n in nodes if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]


def _can_print(code: str) -> bool:
    """Whether the code shows anything: a print, or a last expression Jupyter displays (a
    plotting call shows a figure, which a text export cannot hold)."""
    tree = parse_code(code)
    if tree is None or print_calls(code):
        return tree is not None
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr):
        return False
    called = ast.unparse(last.value.func) if isinstance(last.value, ast.Call) else ""
    return not re.search(r"^plt\.|\b(?:show|plot|savefig|imshow)$", called)


DISPLAY_WRAPPER = re.compile(r"^(?:np|numpy)\.\w+\((.*)\)$")


def _is_display(line: str) -> bool:
    """A literal as Jupyter displays a value: ``32436``, ``[1, 2]``, ``np.float64(-70.0)``."""
    inner = DISPLAY_WRAPPER.sub(r"\1", line.strip())
    try:
        ast.literal_eval(inner)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _print_labels(code: str) -> list[str]:
    labels = []
    for call in print_calls(code):
        first = call.args[0] if call.args else None
        if isinstance(first, ast.JoinedStr) and first.values:
            first = first.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.strip():
            labels.append(first.value.strip())
    return labels


_CELL_MARK = re.compile(r"^In \[\s*\d*\s*\]:\s*$")


def _text_export(text: str) -> list[Line]:
    """Lines of a notebook exported to text (the rule is in the module's docstring)."""
    lines, state, code, block, blank_before = [], "text", [], 0, False
    for number, raw in enumerate(text.splitlines(), 1):
        blank = not raw.strip()
        if _CELL_MARK.match(raw.strip()):
            state, code, block = "code", [], block + 1
            continue
        if state == "code" and not blank:
            so_far = "\n".join(code)
            printed = any(raw.strip().startswith(p) for p in _print_labels(so_far))
            # a bare literal is no code anyone writes, but a label needs the blank line
            if (
                _python(so_far) == "complete"
                and _can_print(so_far)
                and (_is_display(raw) or (blank_before and printed))
            ):
                state = "output"
            elif _python(f"{so_far}\n{raw}") != "invalid":
                code.append(raw)
            elif _can_print(so_far):
                state = "output"
            else:
                state, block = "text", block + 1
        elif state == "output" and blank:
            state, block = "text", block + 1
        elif state == "code":
            code.append(raw)
        lines.append(Line(_repair(raw), raw, number, None, state, (0, block)))
        blank_before = blank
    return lines


_WARNING = re.compile(r"^\S.*:\d+: \w*(?:Warning|Error): ")


def _warnings(lines: list[Line]) -> list[Line]:
    """Output lines that are a warning Python printed (``…/x.py:9: RuntimeWarning: overflow``
    and the source line it quotes under it) as ``"warning"``: no figure is read from them."""
    marked, quoted = [], False
    for line in lines:
        if line.source == "output" and (_WARNING.match(line.text) or quoted):
            quoted = not quoted and bool(_WARNING.match(line.text))
            line = dataclasses.replace(line, source="warning")
        marked.append(line)
    return marked


def read_lines(path: Path, form: str) -> list[Line]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"{path}: not UTF-8 text: {exc}") from exc
    except OSError as exc:
        raise ExtractionError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if form == "ipynb":
        return _warnings(_notebook(text, str(path)))
    if form == "text":
        return _warnings(_text_export(text))
    if form == "markdown":
        return _markdown(text)
    return [
        Line(_repair(r), r, n, None, "code", (0, 0)) for n, r in enumerate(text.splitlines(), 1)
    ]
