"""Markdown tables for Jupyter: Tensors, Modules, the recorder and traces display as tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def tensor_markdown(tensor: Any) -> str:
    """A Tensor: one line of facts, then its values as a table when it is at most 2-D and small."""
    facts = [f"shape {tensor.shape}", str(tensor.dtype)]
    if tensor.requires_grad:
        facts.append("requires grad" + (f", made by {tensor._ctx.name}" if tensor._ctx else ""))
    if tensor.grad is not None:
        facts.append(f"‖grad‖ = {float((tensor.grad**2).sum()) ** 0.5:.4g}")
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
