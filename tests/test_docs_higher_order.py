"""docs/higher-order.md's Python examples run, in order, as a reader would paste them."""

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "higher-order.md"


def test_the_python_blocks_of_the_higher_order_page_run_in_sequence():
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) >= 9
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)  # noqa: S102
    # what the examples assert, seen from here too: Newton converged, the fits reached their mark
    assert namespace["norms"][-1] < 1e-12 and namespace["error"] < 0.02
    assert namespace["message"].startswith("gradgradcheck of CubeOfAConstant")


def test_the_page_is_linked_from_the_readme():
    readme = (PAGE.parent.parent / "README.md").read_text()
    assert "(docs/higher-order.md)" in readme
