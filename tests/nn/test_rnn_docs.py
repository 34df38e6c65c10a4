"""docs/rnn.md's Python examples run, in order, as a reader would paste them."""

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "rnn.md"


def test_the_python_blocks_of_the_rnn_page_run_in_sequence():
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) >= 9
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)  # noqa: S102
    # what the examples show, seen from here too: truncated BPTT trained, the gradient
    # vanished over fifty steps (for the three cells, at initialisation)
    losses = namespace["losses"]
    assert len(losses) == 8 and losses[-1] < losses[0]
    assert max(namespace["ratios"].values()) < 1e-6
