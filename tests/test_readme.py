"""The README, the front door: at most 200 lines, its Python examples run, in order, as a user
would paste them, its two commands are what CI runs, and it names the command that builds and
serves the documentation site. What it said before the site moved into docs/ is tested there
(tests/test_docs.py)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
DOCS = README.parent / "docs"


def test_the_readme_is_a_front_door_of_at_most_200_lines():
    assert len(README.read_text().splitlines()) <= 200


def test_readme_python_blocks_run_in_sequence():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    try:
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    finally:  # the README registers an op of its own: no other test may see it
        from engine.test_registry import forget

        forget("softsign", "Softsign")
    # the engine's gradients, the op made three ways, the picture's graph with a layer a cluster
    x = namespace["x"].data
    assert abs(namespace["y"].data - 3 * x / (1 + abs(x))).max() < 1e-15
    assert namespace["w"].grad.shape == (3, 2)
    assert namespace["graph"].source.count("subgraph cluster") == 3


def test_readme_has_exactly_the_two_commands_that_ci_runs():
    text = README.read_text()
    for marker in ("lab-command", "test-command"):
        assert text.count(f"<!-- {marker} -->") == 1 and text.count(f"<!-- /{marker} -->") == 1
    ci = (README.parent / ".ci" / "run").read_text()
    assert "test-command" in ci


def test_readme_names_the_command_that_builds_and_serves_the_site():
    text = README.read_text()
    assert "pip install -e '.[docs]' && mkdocs serve" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "mkdocs build --strict" in ci and "'.[docs]'" in ci


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


def test_the_lab_extra_holds_what_the_docs_and_the_notebook_use():
    import json
    import sys

    extras = _extras()
    installed = extras["lab"] | extras["install"]
    assert "pandas" in extras["lab"]  # docs/layers.md's recorder.to_pandas() runs after .[lab]
    notebook = json.loads((README.parent / "experiments" / "lab6.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    imported = set(re.findall(r"^(?:import|from) (\w+)", code, flags=re.M))
    # IPython comes with the Jupyter the docs ask for (its kernel is IPython)
    third_party = imported - set(sys.stdlib_module_names) - {"tinygrad_lab", "IPython"}
    assert third_party <= installed, third_party - installed
    assert ".to_pandas()" in code and "pandas" in installed
    lab = (DOCS / "lab.md").read_text()
    notebook_line = lab[lab.index("`experiments/lab6.ipynb` works through") :][:300]
    for requirement in ("`lab` extra", "Jupyter", "`dot`", "graphviz-pure"):
        assert requirement in notebook_line
    assert "needs pandas (in the lab extra)" in (DOCS / "layers.md").read_text()


def test_pictures_come_with_pip_alone_in_the_extras_that_draw():
    extras = _extras()
    for extra in ("draw", "lab", "test", "docs"):
        assert "graphviz-pure" in extras[extra], extra
    assert "graphviz-pure" not in extras["install"]  # import tinygrad_lab needs only NumPy
