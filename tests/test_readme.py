"""The README's Python examples run, in order, as a user would paste them."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run_in_sequence():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    try:
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    finally:  # the README registers an op of its own: no other test may see it
        from engine.test_registry import forget

        forget("softsign", "Softsign")
    # the recorder saw every layer of the custom-layer example, the trace followed backward
    assert set(namespace["recorder"].at_step()) == {"0:Linear", "1:Scale", "2:ReLU", "3:Linear"}
    assert [r.op for r in namespace["trace"].records][:2] == ["MSE", "Affine"]


def test_readme_has_exactly_the_two_commands_that_ci_runs():
    text = README.read_text()
    for marker in ("lab-command", "test-command"):
        assert text.count(f"<!-- {marker} -->") == 1 and text.count(f"<!-- /{marker} -->") == 1
    ci = (README.parent / ".ci" / "run").read_text()
    assert "test-command" in ci


def _extras() -> dict[str, set[str]]:
    import configparser

    config = configparser.ConfigParser()
    config.read(README.parent / "setup.cfg")
    section = config["options.extras_require"]
    names = {}
    for extra, text in section.items():
        names[extra] = {re.split(r"[<>=\[ ]", line.strip())[0] for line in text.split("\n") if line}
    requires = config["options"]["install_requires"]
    names["install"] = {
        re.split(r"[<>=\[ ]", line.strip())[0] for line in requires.split("\n") if line
    }
    return names


def test_the_lab_extra_holds_what_the_readme_and_the_notebook_use():
    import json
    import sys

    extras = _extras()
    installed = extras["lab"] | extras["install"]
    assert "pandas" in extras["lab"]  # the README's recorder.to_pandas() runs after .[lab]
    notebook = json.loads((README.parent / "experiments" / "lab6.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    imported = set(re.findall(r"^(?:import|from) (\w+)", code, flags=re.M))
    # IPython comes with the Jupyter the README asks for (its kernel is IPython)
    third_party = imported - set(sys.stdlib_module_names) - {"tinygrad_lab", "IPython"}
    assert third_party <= installed, third_party - installed
    assert ".to_pandas()" in code and "pandas" in installed
    text = README.read_text()
    notebook_line = text[text.index("`experiments/lab6.ipynb` works through") :][:300]
    for requirement in ("`lab` extra", "Jupyter", "`dot`"):
        assert requirement in notebook_line
    assert "needs pandas (in the lab extra)" in text
