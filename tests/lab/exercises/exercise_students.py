"""Students for the tests: copies made by `exercises make`, filled with the project's own code,
with known mistakes, or with attacks on the grader."""

from __future__ import annotations

import shutil
from pathlib import Path

from tinygrad_lab.lab.exercises import cut
from tinygrad_lab.lab.exercises.catalog import Exercise, Mutant, choose
from tinygrad_lab.lab.exercises.make import make_copy

# A layer of a student's design, for the exercise that has no project code: y = tanh(x @ W).
LAYER = """
import numpy as np

from tinygrad_lab.nn import Module, Parameter
from tinygrad_lab.tensor import Function

INPUT_SHAPE = (4, 3)


class TanhOfProduct(Function):
    @staticmethod
    def forward(ctx, x, w):
        out = np.tanh(x @ w)
        ctx.save_for_backward(x, w, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w, out = ctx.saved_tensors
        g = grad * (1 - out * out)
        return g @ w.T, x.T @ g{mistake}


class MyLayer(Module):
    def __init__(self, rng):
        super().__init__()
        self.weight = Parameter(rng.standard_normal((3, 2)))

    def forward(self, x):
        return TanhOfProduct.apply(x, self.weight)
"""


def solved_text(exercise: Exercise, mutant: Mutant | None = None) -> str:
    """The exercise's file with the project's own bodies (``mutant``'s mistake in one)."""
    if not exercise.targets:
        return LAYER.format(mistake="")
    return cut.exercise_file(exercise, cut.solution_bodies(exercise, mutant))


def student(folder: Path, chosen: str, answers: dict[str, str] | None = None) -> Path:
    """A copy of ``chosen`` made by `make_copy`, every exercise solved with the project's own
    code except those in ``answers`` (exercise name -> the file's text)."""
    exercises = choose(chosen)
    make_copy(exercises, folder)
    for exercise in exercises:
        text = (answers or {}).get(exercise.name) or solved_text(exercise)
        (folder / "exercises" / f"{exercise.name}.py").write_text(text)
    return folder


def clone(source: Path, folder: Path) -> Path:
    shutil.copytree(source, folder)
    return folder
