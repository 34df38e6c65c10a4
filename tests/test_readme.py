"""The README's Python examples run, in order, as a user would paste them."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run_in_sequence():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    # the recorder saw every layer of the custom-layer example, the trace followed backward
    assert set(namespace["recorder"].at_step()) == {"0:Linear", "1:Scale", "2:ReLU", "3:Linear"}
    assert [r.op for r in namespace["trace"].records][:2] == ["MSE", "Affine"]


def test_readme_has_exactly_the_two_commands_that_ci_runs():
    text = README.read_text()
    for marker in ("lab-command", "test-command"):
        assert text.count(f"<!-- {marker} -->") == 1 and text.count(f"<!-- /{marker} -->") == 1
    ci = (README.parent / ".ci" / "run").read_text()
    assert "test-command" in ci
