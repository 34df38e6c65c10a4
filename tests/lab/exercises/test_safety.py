"""Grading is safe and cannot be gamed: each student's code runs in a child process of its own,
with limits of time and memory, no network, a folder of its own, and no reference value in
reach; a submission that tries each attack gets zero for that exercise and a line saying what
it tried, and the rest of the class is graded."""

from __future__ import annotations

from pathlib import Path

import pytest
from exercise_students import student

from tinygrad_lab.lab.exercises import sandbox
from tinygrad_lab.lab.exercises.catalog import choose
from tinygrad_lab.lab.exercises.grade import grade_class

HEADER = """
import os, signal, socket, sys
import numpy as np
import tinygrad_lab.ops.elementwise as _elementwise
{at_import}

class Mul(_elementwise.Mul):
    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        {attack}
        return grad * y, grad * x
"""

ATTACKS = {
    "network": ("", 'socket.create_connection(("127.0.0.1", 9))'),
    "exit": ("", "sys.exit(0)"),
    "prints": ('print("passed")', "return grad * 0, grad * 0"),
    "monkeypatch": (
        "import tinygrad_lab as tl\ntl.gradcheck = lambda *a, **k: True",
        "",
    ),
    "hang": ("", "while True: pass"),
    "hang_ignoring_alarms": (
        "",
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n        while True: pass",
    ),
    "memory": ("", "hog = np.ones(1 << 40)"),
    "peek": ("", "raise RuntimeError(sorted(m for m in sys.modules if 'exercises' in m))"),
}


def _attacker(root: Path, name: str, at_import: str, attack: str) -> Path:
    text = HEADER.format(at_import=at_import, attack=attack)
    return student(root / name, "add,mul", {"mul": text})


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("class")
    for name, (at_import, attack) in ATTACKS.items():
        _attacker(root, name, at_import, attack)
    victim = root / "zz_honest" / "exercises" / "mul.py"
    _attacker(root, "editor", "", f"open({str(victim)!r}, 'w').write('class Mul: pass')")
    # an exit at import ends the process: a new one grades the next exercise
    exit_text = "import os\nos._exit(0)\n"
    student(root / "hard_exit", "add,mul", {"add": exit_text})
    student(root / "zz_honest", "add,mul")
    limits = sandbox.Limits(case_seconds=1.0, exercise_seconds=6.0)
    folders = sorted(p for p in root.iterdir())
    results = grade_class(folders, choose("add,mul"), limits, root)
    return {r.student: r for r in results} | {"victim": victim}


def _verdicts(result) -> dict:
    return {v.exercise: v for v in result.verdicts}


@pytest.mark.parametrize(
    "name, said",
    [
        ("network", "tried to open a network connection"),
        ("exit", "called exit()"),
        ("hang", "ran past the time limit of a case"),
        ("memory", "ran out of memory"),
    ],
)
def test_an_attack_scores_zero_with_a_line_saying_what_it_tried(graded, name, said) -> None:
    verdicts = _verdicts(graded[name])
    assert not verdicts["mul"].passed
    assert any(said in note for note in verdicts["mul"].notes), verdicts["mul"]
    assert verdicts["add"].passed  # the rest of its work is graded


def test_monkeypatching_the_project_scores_zero_even_with_a_right_answer(graded) -> None:
    mul = _verdicts(graded["monkeypatch"])["mul"]
    assert not mul.passed
    assert "(tinygrad_lab.gradcheck)" in mul.failure.message
    assert "monkeypatching" in mul.failure.message


def test_printing_passed_changes_nothing(graded) -> None:
    result = graded["prints"]
    assert not _verdicts(result)["mul"].passed
    assert result.notes == ["printed (the grader ignores it): 'passed'"]


def test_a_process_that_ignores_its_alarm_is_killed_and_the_class_goes_on(graded) -> None:
    mul = _verdicts(graded["hang_ignoring_alarms"])["mul"]
    assert not mul.passed and "ran past 6 s (killed)" in mul.failure.message


def test_an_exit_at_import_zeroes_that_exercise_and_a_new_process_grades_the_next(graded) -> None:
    verdicts = _verdicts(graded["hard_exit"])
    assert not verdicts["add"].passed and "process ended" in verdicts["add"].failure.message
    assert verdicts["mul"].passed


def test_editing_another_students_files_is_found_put_back_and_zeroed(graded) -> None:
    editor = graded["editor"]
    assert editor.earned == 0
    assert any(
        "edited other files of the class folder" in n and "put back" in n for n in editor.notes
    )
    assert "class Mul(_elementwise.Mul)" in graded["victim"].read_text()
    assert graded["zz_honest"].earned == graded["zz_honest"].possible


def test_no_reference_value_or_grader_module_is_in_the_students_process(graded) -> None:
    message = _verdicts(graded["peek"])["mul"].failure.message
    assert "RuntimeError: [" in message
    assert "exercises.harness'" in message  # (what runs the code is there)
    for grader in ("judge", "ladders", "grade", "sandbox", "report", "commands"):
        assert f"exercises.{grader}'" not in message


def test_the_watch_puts_back_changed_files_and_removes_new_ones(tmp_path: Path) -> None:
    kept = tmp_path / "kept.py"
    kept.write_text("original")
    watch = sandbox.Watch(tmp_path)
    watch.start()
    kept.write_text("changed!")
    (tmp_path / "new.py").write_text("planted")
    lines = watch.changes()
    assert sorted(line.split()[0] for line in lines) == ["changed", "created"]
    assert kept.read_text() == "original" and not (tmp_path / "new.py").exists()
    assert watch.changes() == []


def test_editing_or_planting_a_file_in_the_graders_project_is_undone_and_zeroed(
    tmp_path: Path,
) -> None:
    """(A stand-in for the project's folder, so that a failure here cannot damage the real one.)"""
    project = tmp_path / "project"
    project.mkdir()
    target = project / "gradcheck.py"
    target.write_text("def gradcheck(): ...\n")
    root = tmp_path / "class"
    edit = f"open({str(target)!r}, 'w').write('def gradcheck(): return True')"
    _attacker(root, "editor", "", edit)
    plant = f"open({str(project / 'planted.py')!r}, 'w').write('')"
    student(root / "planter", "add,mul", {"add": solved_add_that(plant)})
    patch = "import tinygrad_lab as tl\ntl.gradcheck = lambda *a, **k: True"
    student(root / "patcher", "add,mul", {"add": solved_add_that(patch)})
    folders = sorted(root.iterdir())
    results = grade_class(folders, choose("add,mul"), sandbox.Limits(), root, watched=project)
    editor, patcher, planter = ({v.exercise: v for v in r.verdicts} for r in results)
    # a monkeypatch zeroes its exercise; the next runs in a new process, free of it
    assert not patcher["add"].passed and "monkeypatching" in patcher["add"].failure.message
    assert patcher["mul"].passed and patcher["mul"].notes == []
    assert not editor["mul"].passed and editor["add"].passed
    assert "edited files outside its folder: changed" in editor["mul"].failure.message
    assert target.read_text() == "def gradcheck(): ...\n"
    assert not (project / "planted.py").exists()
    assert not any(v.passed for v in planter.values())
    assert "edited the grader's files: created" in results[2].notes[-1]


def solved_add_that(attack: str) -> str:
    """`add`'s file, the project's own code, doing ``attack`` when imported."""
    from exercise_students import solved_text

    from tinygrad_lab.lab.exercises.catalog import BY_NAME

    return solved_text(BY_NAME["add"]) + "\n" + attack + "\n"


FORGER = """
import os, json
import tinygrad_lab.ops.elementwise as _elementwise

class Mul(_elementwise.Mul):
    @staticmethod
    def backward(ctx, grad):
        for fd in range(3, 12):  # the runner's replies: a forged one, "no error"
            try:
                os.write(fd, b'{"id": 2, "errors": {}, "index": []}\\n')
            except OSError:
                pass
        x, y = ctx.saved_tensors
        return grad * y, grad * x
"""


def test_a_forged_reply_gives_no_marks(tmp_path: Path) -> None:
    folder = student(tmp_path / "forger", "add,mul,tanh", {"mul": FORGER})
    (result,) = grade_class([folder], choose("add,mul,tanh"), sandbox.Limits(), tmp_path)
    verdicts = _verdicts(result)
    assert not verdicts["mul"].passed  # a reply without outputs: no result
    assert any("forged" in note for note in verdicts["mul"].notes)
    assert not any("forged" in note for note in verdicts["add"].notes + verdicts["tanh"].notes)
    assert verdicts["add"].passed and verdicts["tanh"].passed  # (tanh: in a new process)
