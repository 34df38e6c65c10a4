"""Deciding an exercise from the student's raw outputs: the reference outputs (the project's own
code, run here in the grader), the first case of the ladder that differs (the smallest failing
case), where it differs, and which known mistake it looks like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from tinygrad_lab.lab.exercises import cut, harness, ladders, layer, substitute
from tinygrad_lab.lab.exercises.catalog import BY_NAME, HINTS, Exercise, Mutant
from tinygrad_lab.numpy_interop import unbroadcast

RTOL, ATOL = 1e-6, 1e-9  # a formula written another way differs by rounding only
LAYER_RTOL, LAYER_ATOL = 1e-4, 1e-6  # against finite differences


@dataclass
class Failure:
    """The smallest failing case and what went wrong in it."""

    case: int
    inputs: str  # shapes and settings
    message: str  # which output, which element, expected vs got; or what was raised
    kind: str | None = None  # a key of HINTS
    values: dict[str, list] = field(default_factory=dict)  # the inputs, when small

    @property
    def hint(self) -> str | None:
        return HINTS.get(self.kind) if self.kind else None


@dataclass
class Verdict:
    exercise: str
    points: int
    passed: bool
    failure: Failure | None = None
    notes: list[str] = field(default_factory=list)  # what the code tried, what stood in for it

    @property
    def earned(self) -> int:
        return self.points if self.passed else 0


@cache
def reference(name: str) -> tuple[list[harness.Case], list[harness.Outputs]]:
    """The ladder of ``name`` and the project's own outputs on it."""
    cases = ladders.cases(name)
    return cases, [harness.run(name, case) for case in cases] if name != "custom_layer" else []


@cache
def mutant_outputs(mutant: Mutant, name: str, index: int) -> harness.Outputs | str:
    """What the known mistake ``mutant`` outputs on case ``index``, or the error it raises."""
    exercise = BY_NAME[name]
    text = cut.exercise_file(exercise, cut.solution_bodies(exercise, mutant))
    versions = substitute.versions_in(substitute.compile_file(text, f"mutant_{name}"), exercise)
    try:
        with substitute.substituted(versions), np.errstate(all="ignore"):
            return harness.run(name, reference(name)[0][index])
    except Exception as err:  # noqa: BLE001  (a mistake that raises: its error, to match)
        return f"{type(err).__name__}: {err}"


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True))


def diagnose(
    exercise: Exercise, index: int, key: str, expected: np.ndarray, got: np.ndarray
) -> str | None:
    """Which known mistake the student's output looks like, if any."""
    for mutant in exercise.mutants:
        outputs = mutant_outputs(mutant, exercise.name, index)
        if isinstance(outputs, dict) and key in outputs and _close(np.asarray(outputs[key]), got):
            return mutant.kind
    if got.shape != expected.shape:
        if got.ndim >= expected.ndim:
            try:
                if _close(unbroadcast(got, expected.shape), expected):
                    return "unbroadcast"
            except (ValueError, IndexError):
                pass
        return "unbroadcast" if got.size > expected.size else None
    if _close(got, -expected) and np.any(expected):
        return "sign"
    if got.ndim == 2 and _close(got.T, expected) and not _close(got, expected):
        return "transpose"
    return None


def _where(key: str, expected: np.ndarray, got: np.ndarray) -> str:
    if got.shape != expected.shape:
        return f"{key}: shape {got.shape}, expected {expected.shape}"
    bad = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL, equal_nan=True)
    flat = int(np.flatnonzero(bad)[0]) if bad.any() else 0
    at = tuple(int(i) for i in np.unravel_index(flat, got.shape)) if got.ndim else ()
    element = f"[{', '.join(map(str, at))}]" if got.ndim else ""
    differ = f"{int(bad.sum())} of {bad.size} entries differ"
    return f"{key}{element}: expected {expected[at]:.6g}, got {got[at]:.6g} ({differ})"


def _small(case: harness.Case) -> dict[str, list]:
    return {k: np.round(v, 4).tolist() for k, v in case.arrays.items() if v.size <= 12}


def judge(name: str, outputs: dict[str, np.ndarray], errors: dict[str, str]) -> Failure | None:
    """The first failing case of the ladder, or None when every case matches."""
    exercise = BY_NAME[name]
    cases, expected = reference(name)
    for i, case in enumerate(cases):
        got = {k.split("|", 1)[1]: v for k, v in outputs.items() if k.startswith(f"{i}|")}
        message, kind = _case_problem(exercise, i, got, expected, errors)
        if message is not None:
            return Failure(i, case.describe(), message, kind, _small(case))
    return None


def _case_problem(exercise: Exercise, i: int, got: dict, expected: list, errors: dict) -> tuple:
    """(what is wrong in case ``i``, the known mistake it looks like), or (None, None)."""
    if str(i) in errors:
        error = errors[str(i)]
        same = [
            m.kind
            for m in exercise.mutants
            if mutant_outputs(m, exercise.name, i) == error.split(" (exercises/")[0]
        ]
        return f"raised {error}", same[0] if same else None
    if exercise.name == "custom_layer":
        return _layer_problem(got), None
    for key, want in expected[i].items():
        if key not in got:
            return f"{key}: no result (None, or not computed)", None
        if not _close(got[key], want):
            kind = diagnose(exercise, i, key, np.asarray(want), got[key])
            return _where(key, np.asarray(want), got[key]), kind
    return None, None


def _layer_problem(got: harness.Outputs) -> str | None:
    if not {"backward", "shifted", "own op", "parameters"} <= set(got):
        return "no result"
    problem = layer.layer_problem(got)
    if problem:
        return problem
    numeric, analytic = layer.finite_differences(got), got["backward"]
    if analytic.shape != numeric.shape:
        return f"backward gave {analytic.size} gradient entries for {numeric.size} inputs"
    bad = ~np.isclose(analytic, numeric, rtol=LAYER_RTOL, atol=LAYER_ATOL)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        return (
            f"entry {k} of (input, then parameters, flattened): finite differences give "
            f"{numeric[k]:.6g}, your backward {analytic[k]:.6g} "
            f"({int(bad.sum())} of {bad.size} differ)"
        )
    return None
