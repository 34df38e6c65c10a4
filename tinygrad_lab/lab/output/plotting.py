"""The plotting setup every plot of the lab uses: matplotlib (optional extra ``plot``) drawing
to files only, and a figure saved as PNG."""

from __future__ import annotations

from typing import Any

PLOT_HINT = "pip install 'tinygrad_lab[plot]'"


def pyplot(what: str = "plots", hint: str = PLOT_HINT) -> Any:
    """matplotlib's pyplot, drawing to files only; without matplotlib, an ImportError saying
    that ``what`` needs it and how to get it (``hint``)."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"{what} need matplotlib: {hint}") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def save_png(plt: Any, fig: Any, file: Any, dpi: int = 110) -> Any:
    """The figure as PNG into ``file`` (a path, or an `OutputFiles` staging file)."""
    fig.tight_layout()
    fig.savefig(file, format="png", dpi=dpi)
    plt.close(fig)
    return file
