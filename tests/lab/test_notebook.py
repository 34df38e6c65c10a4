"""experiments/lab6.ipynb runs top to bottom in a real kernel, and is committed without outputs."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "experiments" / "lab6.ipynb"


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.needs_dot  # its graph cell renders, and its explorer is laid out, by `dot`
def test_notebook_runs_top_to_bottom_and_shows_the_lab():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = {kind for o in outputs for kind in o.get("data", {})}
    assert {"image/svg+xml", "image/png", "text/markdown"} <= kinds  # graph, plots, tables
    text = "".join(o.get("text", "") for o in outputs)
    assert "gradcheck: True" in text and "manual convolution: -70" in text
    # the gradient plot follows each layer across the break, in layer order (not by label)
    linear = ", ".join(f"{k}:Linear" for k in range(0, 17, 2))
    assert f"layers plotted: {linear}\n" in text
    # the backward trace names the notebook's own cell as the code line that made each node
    tables = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert re.search(r"\| cell \d+:\d+ \|", tables)
    # the explorer shows inline: the whole page in an iframe, its steps those of the lab network
    pages = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    explorer = [page for page in pages if page.startswith('<iframe srcdoc="')]
    assert len(explorer) == 1 and "backprop explorer" in explorer[0]
    assert re.search(r"cell \d+:\d+", explorer[0])  # code lines name the notebook's cells
