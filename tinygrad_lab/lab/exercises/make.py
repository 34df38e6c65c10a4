"""``exercises make``: a student's copy of a set of exercises, a folder of its own::

    exercises.json          which exercises (the grader reads it)
    exercises/<name>.py     the blanks: the only files graded
    notebooks/<name>.ipynb  a walk through each
    tinygrad_lab/           the framework, each blanked function calling the student's
    README.md

The framework is copied without the lab (the grader) and `reference` (the matrix-form oracle),
with no compiled file; every blanked body is gone from it (`cut.delegating_body`).
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import tinygrad_lab
from tinygrad_lab.lab.exercises import cut, layer, notebooks
from tinygrad_lab.lab.exercises.catalog import Exercise

PACKAGE = Path(tinygrad_lab.__file__).parent
LEFT_OUT = ("lab", "reference", "__main__.py")  # the grader, the oracle, the lab's command

README = """# Exercises: {names}

Write the backward passes yourself. Each file in `exercises/` holds functions of tinygrad_lab
with their bodies removed: keep each name and signature, write the body (the math is in the
comments), and walk through it in the notebook of the same name in `notebooks/`. The
`tinygrad_lab/` here runs your functions in place of its own, so everything you build with it
uses your code. Hand in this whole folder; only `exercises/*.py` is graded.
"""


def _copy_framework(into: Path) -> None:
    def ignore(folder: str, names: list[str]) -> list[str]:
        top = Path(folder) == PACKAGE
        return [
            n for n in names if n == "__pycache__" or n.endswith(".pyc") or (top and n in LEFT_OUT)
        ]

    shutil.copytree(PACKAGE, into / "tinygrad_lab", ignore=ignore)


def _delegate(exercises: tuple[Exercise, ...], into: Path) -> None:
    """Replace each target's body, in the copy, by a call of the student's version."""
    by_file: dict[Path, list[tuple[cut.Located, Exercise]]] = defaultdict(list)
    for exercise in exercises:
        for target in exercise.targets:
            where = cut.locate(target)
            by_file[where.path].append((where, exercise))
    for path, found in by_file.items():
        lines = list(cut.locate(found[0][0].target).lines)
        for where, exercise in sorted(found, key=lambda f: -f[0].body_start):
            lines[where.body_start - 1 : where.node.end_lineno] = cut.delegating_body(
                where, exercise
            )
        copy = into / "tinygrad_lab" / path.relative_to(PACKAGE)
        copy.write_text("\n".join(lines) + "\n")


def make_copy(exercises: tuple[Exercise, ...], out: Path) -> list[Path]:
    """Write the student's copy of ``exercises`` into ``out`` (new or empty); the files made."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"exercises make: {out} exists and is not an empty folder; give a new one")
    try:
        import nbformat
    except ImportError:
        raise ImportError(
            "exercises make writes a notebook per exercise with nbformat: "
            "pip install 'tinygrad-lab[exercises]'"
        ) from None

    out.mkdir(parents=True, exist_ok=True)
    _copy_framework(out)
    _delegate(exercises, out)
    (out / "exercises").mkdir()
    (out / "notebooks").mkdir()
    (out / "exercises" / "__init__.py").write_text('"""Your answers: one file an exercise."""\n')
    for exercise in exercises:
        text = layer.TEMPLATE if not exercise.targets else cut.exercise_file(exercise)
        (out / "exercises" / f"{exercise.name}.py").write_text(text)
        nbformat.write(notebooks.notebook(exercise), out / "notebooks" / f"{exercise.name}.ipynb")
    names = [e.name for e in exercises]
    manifest = {"exercises": names, "points": {e.name: e.points for e in exercises}}
    (out / "exercises.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (out / "README.md").write_text(README.format(names=", ".join(names)))
    return sorted(p for p in out.rglob("*") if p.is_file())
