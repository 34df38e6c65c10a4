"""`exercises grade`: the project's own code, cut and graded, scores full marks; each known
mistake fails with its diagnosis, at the smallest failing case; a failed prerequisite is
replaced by the project's own; the grades are written per student, as CSV and as JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from exercise_students import LAYER, clone, solved_text, student

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.exercises import judge, sandbox
from tinygrad_lab.lab.exercises.catalog import BY_NAME, EXERCISES, HINTS, choose
from tinygrad_lab.lab.exercises.grade import grade_class

LIMITS = sandbox.Limits(exercise_seconds=60)


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return student(tmp_path_factory.mktemp("solved") / "solved", "all")


def _grade(*folders: Path, chosen: str | None = None) -> list:
    exercises = choose(chosen) if chosen else None
    return grade_class(list(folders), exercises, LIMITS, folders[0].parent)


def test_the_projects_own_code_cut_and_graded_scores_full_marks(solved: Path) -> None:
    (result,) = _grade(solved)
    assert [v.exercise for v in result.verdicts] == [e.name for e in EXERCISES]
    failed = {v.exercise: v.failure.message for v in result.verdicts if not v.passed}
    assert failed == {}
    assert result.earned == result.possible == sum(e.points for e in EXERCISES)


def test_a_blank_copy_scores_zero_and_names_the_blank(tmp_path: Path) -> None:
    blank = tmp_path / "blank"
    main(["exercises", "make", "--set", "engine,mul", "--out", str(blank)])
    (result,) = _grade(blank)
    assert result.earned == 0
    verdict = result.verdicts[-1]
    assert verdict.failure.case == 0  # the smallest case: one element
    assert "NotImplementedError: exercise mul: write Mul.backward" in verdict.failure.message
    assert "(exercises/mul.py, line" in verdict.failure.message


def _mutant_students(root: Path, solved: Path) -> dict[tuple[str, str], str | None]:
    """Student k has the k-th known mistake of every exercise (or its project code)."""
    expected = {}
    for k in range(max(len(e.mutants) for e in EXERCISES)):
        folder = clone(solved, root / f"mistakes{k}")
        for exercise in EXERCISES:
            mutant = exercise.mutants[k] if k < len(exercise.mutants) else None
            (folder / "exercises" / f"{exercise.name}.py").write_text(solved_text(exercise, mutant))
            expected[(folder.name, exercise.name)] = mutant.kind if mutant else None
    return expected


def test_every_known_mistake_fails_with_its_diagnosis(tmp_path: Path, solved: Path) -> None:
    """Mutants made from the project's source (a sign flipped, an axis swapped, a missing
    unbroadcast, ties mishandled, `+=` lost, ...): each fails, with its hint."""
    assert all(e.mutants for e in EXERCISES if e.targets)
    expected = _mutant_students(tmp_path, solved)
    results = _grade(*sorted(tmp_path.iterdir()))
    seen = set()
    for result in results:
        for verdict in result.verdicts:
            kind = expected[(result.student, verdict.exercise)]
            if kind is None:
                assert verdict.passed, (result.student, verdict.exercise, verdict.failure)
                continue
            assert not verdict.passed, (result.student, verdict.exercise)
            assert verdict.failure.kind == kind, (verdict.exercise, verdict.failure)
            assert verdict.failure.hint == HINTS[kind]
            seen.add(kind)
    assert {"sign", "axis", "unbroadcast", "ties", "accumulate", "transpose", "order"} <= seen


def test_the_failing_case_is_the_smallest_and_says_where(tmp_path: Path, solved: Path) -> None:
    """Ties in max: reported at the first case of the ladder the mistake changes, with the
    input's gradient, the element, expected and got."""
    mutant = BY_NAME["max"].mutants[-1]
    assert mutant.kind == "ties"
    folder = clone(solved, tmp_path / "ties")
    (folder / "exercises" / "max.py").write_text(solved_text(BY_NAME["max"], mutant))
    (result,) = _grade(folder, chosen="max")
    failure = result.verdicts[0].failure
    cases, reference = judge.reference("max")
    differs = [
        not np.allclose(judge.mutant_outputs(mutant, "max", i)["grad x"], reference[i]["grad x"])
        for i in range(len(cases))
    ]
    assert failure.case == differs.index(True)
    assert failure.message.startswith("grad x[")
    assert "expected" in failure.message and "got" in failure.message
    assert failure.inputs == cases[failure.case].describe()
    assert failure.values["x"] == np.round(cases[failure.case].arrays["x"], 4).tolist()


def test_a_failed_prerequisite_is_replaced_by_the_projects_own(tmp_path: Path) -> None:
    broken_visit = solved_text(BY_NAME["visit"], BY_NAME["visit"].mutants[0])
    folder = student(tmp_path / "one_mistake", "engine,mul", {"visit": broken_visit})
    (result,) = _grade(folder)
    verdicts = {v.exercise: v for v in result.verdicts}
    assert not verdicts["visit"].passed
    assert verdicts["walk"].passed and verdicts["mul"].passed  # graded on the project's visit
    assert "the project's `visit` stood in for yours (it failed)" in verdicts["walk"].notes


def test_a_layer_whose_backward_disagrees_with_finite_differences_fails(tmp_path: Path) -> None:
    wrong = LAYER.format(mistake=" * 1.01")  # 1% off
    folder = student(tmp_path / "layer", "custom_layer", {"custom_layer": wrong})
    no_op = LAYER.format(mistake="").replace(
        "return TanhOfProduct.apply(x, self.weight)", "return (x @ self.weight).tanh()"
    )
    other = student(tmp_path / "no_op", "custom_layer", {"custom_layer": no_op})
    big = LAYER.format(mistake="").replace("INPUT_SHAPE = (4, 3)", "INPUT_SHAPE = (200, 3)")
    large = student(tmp_path / "large", "custom_layer", {"custom_layer": big})
    first, second, third = _grade(folder, other, large)
    assert "finite differences give" in first.verdicts[0].failure.message
    assert "not made by an op of yours" in second.verdicts[0].failure.message
    assert "more than 400 entries" in third.verdicts[0].failure.message


def test_a_class_is_graded_into_markdown_csv_and_json(tmp_path: Path, solved: Path, capsys) -> None:
    root = tmp_path / "class"
    root.mkdir()
    clone(solved, root / "ada")
    student(root / "bob", "all", {"mul": solved_text(BY_NAME["mul"], BY_NAME["mul"].mutants[0])})
    out = tmp_path / "grades"
    assert (
        main(
            [
                "exercises",
                "grade",
                "--class",
                str(root),
                "--out",
                str(out),
                "--set",
                "ops",
                "--no-progress",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    total = sum(BY_NAME[n].points for n in (e.name for e in choose("ops")))
    assert [(r["student"], int(r["total"]), int(r["possible"])) for r in rows] == [
        ("ada", total, total),
        ("bob", total - 1, total),
    ]
    assert rows[1]["mul"] == "0" and rows[1]["add"] == "1"
    graded = json.loads((out / "grades.json").read_text())
    mul = next(e for e in graded[1]["exercises"] if e["exercise"] == "mul")
    assert mul["failure"]["mistake"] == "sign" and mul["failure"]["hint"] == HINTS["sign"]
    report = (out / "bob.md").read_text()
    assert "## `mul`: failed, 0/1" in report and "hint: the sign is flipped" in report
    assert capsys.readouterr().out == (out / "grades.csv").read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["exercises", "grade"], "give one submission folder DIR or --class FOLDER"),
        (["exercises", "grade", "nowhere"], "nowhere is not a folder"),
    ],
)
def test_grade_usage_errors_are_one_line_and_exit_2(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err


def test_a_class_shows_a_progress_bar_on_stderr_unless_told_not_to(
    tmp_path: Path, solved: Path, capsys
) -> None:
    root = tmp_path / "class"
    root.mkdir()
    clone(solved, root / "ada")
    assert main(["exercises", "grade", "--class", str(root), "--set", "add"]) == 0
    assert "grading: 100%" in capsys.readouterr().err
    assert main(["exercises", "grade", "--class", str(root), "--set", "add", "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_the_childs_outputs_are_read_as_numbers_only(tmp_path: Path) -> None:
    path = tmp_path / "out.npy"
    np.save(path, np.arange(6.0))
    got = sandbox.read_outputs(path, [["0|grad x", [2, 3]]])
    assert got["0|grad x"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert sandbox.read_outputs(path, [["0|grad x", [2, 2]]]) == {}  # sizes must add up
    np.save(path, np.array([{"forged": 1}], dtype=object), allow_pickle=True)
    assert sandbox.read_outputs(path, [["0|grad x", [1]]]) == {}  # a pickle is never loaded


def test_outputs_that_do_not_fit_their_index_are_no_result(tmp_path: Path) -> None:
    path = tmp_path / "out.npy"
    np.save(path, np.arange(6.0))
    assert sandbox.read_outputs(path, [["a", [-1]], ["b", [7]]]) == {}
    assert sandbox.read_outputs(path, [["a", "xy"]]) == {}
