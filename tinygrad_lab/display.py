"""How the project shows numbers: norms, shapes and tables (fixed-width, Markdown, pandas).

One home for each: the recorder, the trace, the graphs, the self-check and the lab's reports
all use these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np


def norm(array: Any) -> float:
    """The Frobenius (L2) norm of an array, as one dot product (``np.linalg.norm``'s own
    computation, without its overhead)."""
    flat = np.asarray(array).ravel(order="K")
    return math.sqrt(float(flat.dot(flat)))


def shape_text(shape: tuple[int, ...]) -> str:
    """``400×12``, or ``scalar`` for shape ``()``."""
    return "×".join(map(str, shape)) if shape else "scalar"


def cell(value: Any, digits: int = 4) -> str:
    """A table cell: floats to ``digits`` significant digits, None as "undefined"."""
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: Callable[[Any], str] = cell
) -> str:
    """A Markdown (GitHub) table; ``|`` inside a cell is escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v).replace("|", "\\|") for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fixed_width_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: Callable[[Any], str] = cell
) -> str:
    """Columns padded to their widest cell, a rule of dashes under the header."""
    cells = [list(header)] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_pandas(rows: Iterable[Sequence[Any]], columns: Sequence[str], what: str) -> Any:
    """The rows as a ``pandas.DataFrame``; without pandas, an ImportError saying how to get it
    (``what`` names the caller, e.g. ``"GradientRecorder.to_pandas"``)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            f"{what} needs pandas: pip install pandas (or the `tables` extra); the same rows "
            "are available without it"
        ) from None
    return pd.DataFrame(list(rows), columns=list(columns))


def tensor_markdown(tensor: Any) -> str:
    """A Tensor: one line of facts, then its values as a table when it is at most 2-D and small."""
    facts = [f"shape {tensor.shape}", str(tensor.dtype)]
    if tensor.requires_grad:
        facts.append("requires grad" + (f", made by {tensor._ctx.name}" if tensor._ctx else ""))
    if tensor.grad is not None:
        facts.append(f"‖grad‖ = {norm(tensor.grad):.4g}")
    head = "**Tensor** " + " · ".join(facts)
    data = tensor.data
    if data.ndim > 2 or data.size > 100:
        return (
            f"{head}\n\nmin {data.min():.4g} · mean {data.mean():.4g} · max {data.max():.4g}"
            if data.size
            else head
        )
    rows = data.reshape(1, -1) if data.ndim < 2 else data
    table = markdown_table(
        [str(j) for j in range(rows.shape[1])], [[float(v) for v in row] for row in rows]
    )
    return f"{head}\n\n{table}"


class TensorDisplay:
    """How a `Tensor` shows itself: ``repr`` and, in Jupyter, a Markdown table."""

    __slots__ = ()

    def _repr_markdown_(self) -> str:
        """In Jupyter: shape, dtype and graph facts, and the values of a small tensor as a table."""
        return tensor_markdown(self)

    def __repr__(self) -> str:
        grad = f", grad_fn={self._ctx.name}" if self._ctx else ""
        extra = f", requires_grad=True{grad}" if self.requires_grad else ""
        data = self._data
        if data.size <= 16 or data.dtype.kind == "b":
            body = np.array2string(data, precision=4, separator=", ", prefix="Tensor(")
        else:
            body = f"<shape={self.shape} mean={data.mean():.4g} std={data.std():.4g}>"
        dtype = "" if data.dtype == np.float64 else f", dtype={data.dtype}"
        return f"Tensor({body}{dtype}{extra})"


class FunctionDisplay:
    """What traces and drawings read of a `Function` node: its name, whether backward has
    released it, the bytes it keeps."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def released(self) -> bool:
        """True once backward has run through this node without ``retain_graph``."""
        return self.saved_tensors is None

    def saved_nbytes(self) -> int:
        """Bytes of the arrays this node keeps for backward (0 once released)."""
        return sum(a.nbytes for a in self.saved_tensors or () if isinstance(a, np.ndarray))
