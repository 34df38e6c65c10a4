"""`exercises make`: the blanks are cut from the project's own source (signature, docstring and
the math kept), the copy runs the student's functions, and holds no solution, no compiled file
and nothing of the grader."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from exercise_students import solved_text

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.exercises import cut
from tinygrad_lab.lab.exercises.catalog import EXERCISES, SETS, choose
from tinygrad_lab.lab.exercises.make import make_copy


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("copy") / "student"
    assert main(["exercises", "make", "--set", "all", "--out", str(folder)]) == 0
    return folder


def _definition(tree: ast.Module, target: str) -> ast.FunctionDef:
    *owner, name = target.split(":")[1].split(".")
    scope = tree.body
    if owner:
        scope = next(n for n in scope if isinstance(n, ast.ClassDef) and n.name == owner[0]).body
    return next(n for n in scope if isinstance(n, ast.FunctionDef) and n.name == name)


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.targets], ids=lambda e: e.name)
def test_each_blank_keeps_the_signature_and_docstring_and_raises(copy: Path, exercise) -> None:
    text = (copy / "exercises" / f"{exercise.name}.py").read_text()
    tree = ast.parse(text)
    for target in exercise.targets:
        where = cut.locate(target)
        blank = _definition(tree, target)
        assert ast.unparse(blank.args) == ast.unparse(where.node.args)
        assert ast.get_docstring(blank) == ast.get_docstring(where.node)
        assert [ast.unparse(d) for d in blank.decorator_list] == [
            ast.unparse(d) for d in where.node.decorator_list
        ]
        last = blank.body[-1]
        assert isinstance(last, ast.Raise) and "NotImplementedError" in ast.unparse(last)
        # the math: the comments of the project's own body, each in the blank
        for comment in cut.math_comments(where):
            assert f"#   {comment}" in text


def _statements(source: str) -> str:
    return ast.unparse(ast.parse(source))


def test_the_copy_holds_no_solution_no_compiled_file_and_nothing_of_the_grader(copy: Path) -> None:
    files = [p for p in copy.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix == ".pyc" or "__pycache__" in p.parts]
    package = copy / "tinygrad_lab"
    assert not (package / "lab").exists() and not (package / "reference").exists()
    sources = {p: _statements(p.read_text()) for p in files if p.suffix == ".py"}
    for exercise in EXERCISES:
        for target in exercise.targets:
            where = cut.locate(target)
            body = _statements("\n".join(line[len(where.indent) :] for line in where.body))
            leaks = [str(p.relative_to(copy)) for p, text in sources.items() if body in text]
            assert not leaks, f"{target}'s body is in {leaks}"
    everything = "\n".join(sources.values()) + "".join(p.read_text() for p in copy.rglob("*.ipynb"))
    for grader in ("tinygrad_lab.lab", "ladders", "judge", "mutant"):
        assert grader not in everything


def test_the_copy_lists_its_exercises_and_has_a_notebook_for_each(copy: Path) -> None:
    import nbformat

    manifest = json.loads((copy / "exercises.json").read_text())
    assert manifest["exercises"] == [e.name for e in EXERCISES]
    for exercise in EXERCISES:
        notebook = nbformat.read(copy / "notebooks" / f"{exercise.name}.ipynb", as_version=4)
        nbformat.validate(notebook)
        assert f"exercises/{exercise.name}.py" in notebook.cells[0].source


RUN_MUL = """
import sys
sys.path.insert(0, ".")
import tinygrad_lab as tl
assert tl.__file__.startswith(sys.path[0]) or "{copy}" in tl.__file__, tl.__file__
x = tl.Tensor([1.0, 2.0], requires_grad=True)
try:
    (x * x).sum().backward()
except NotImplementedError as err:
    print("blank:", err)
"""


def test_the_copys_framework_runs_the_students_blank(copy: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-c", RUN_MUL.format(copy=copy)],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "blank: exercise " in result.stdout  # the student's file raised, not the project


OWN_OP = """
import sys
sys.path.insert(0, ".")
import tinygrad_lab as tl
from exercises.mul import Mul  # the student's file: its class is a working op
x = tl.Tensor([1.0, 2.0], requires_grad=True)
Mul.apply(x, x).sum().backward()
print(x.grad.tolist())
"""

NOTEBOOKS = """
import json, pathlib, sys, os
for path in sorted(pathlib.Path(".").glob("*.ipynb")):
    cells = json.loads(path.read_text())["cells"]
    namespace = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec("".join(cell["source"]), namespace)
    print("ran", path.stem)
"""


def test_every_notebook_runs_on_a_copy_filled_with_the_projects_own_code(tmp_path: Path) -> None:
    """The notebooks' checks (gradcheck, a descent) pass once the blanks are written."""
    folder = tmp_path / "solved"
    make_copy(choose("all"), folder)
    for exercise in EXERCISES:
        (folder / "exercises" / f"{exercise.name}.py").write_text(solved_text(exercise))
    result = subprocess.run(
        [sys.executable, "-I", "-c", NOTEBOOKS],
        cwd=folder / "notebooks",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("ran ") == len(EXERCISES)


def test_a_set_or_a_list_chooses_exercises_in_dependency_order() -> None:
    assert [e.name for e in choose("ops")] == list(SETS["ops"])
    assert [e.name for e in choose("max,engine")] == [
        "unbroadcast",
        "visit",
        "walk",
        "commit",
        "max",
    ]


def test_an_unknown_set_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["exercises", "make", "--set", "ops,maxx", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown set or exercise 'maxx'" in err
    assert not (tmp_path / "c").exists()


def test_make_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "kept.txt").write_text("mine")
    assert main(["exercises", "make", "--set", "ops", "--out", str(tmp_path)]) == 2
    assert "is not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


def test_without_nbformat_make_says_what_to_install(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "nbformat", None)  # (an import of it raises ImportError)
    assert main(["exercises", "make", "--set", "ops", "--out", str(tmp_path / "c")]) == 2
    assert "pip install 'tinygrad-lab[exercises]'" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
