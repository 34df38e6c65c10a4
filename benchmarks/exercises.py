"""Benchmark E1: ``tinygrad-lab exercises grade --class`` on a class of generated submissions.

Each of the ``--students`` (default 100) is a copy of every exercise made by `exercises make`,
each exercise filled, by a seeded draw, with the project's own code (70%), one of its known
mistakes (20%) or left blank (10%) (`tests/lab/exercises/exercise_students.py`). The class is
made beforehand (not timed); the time is that of `grade_class`, one child process per student,
one student at a time (so that an edit outside a child's folder is pinned on its exercise).
Target: under 300 s for 100 students on 2 cores. The run exits
1 if a verdict is not the one expected (the project's code passes, a mistake fails with its
diagnosis, a blank fails) or the target is missed.

    python benchmarks/exercises.py              # E1: 100 students
    python benchmarks/exercises.py --quick      # 4 students
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "lab" / "exercises"))
TARGET = 300.0


def make_class(root: Path, students: int) -> dict:
    from exercise_students import clone, solved_text

    from tinygrad_lab.lab.exercises.catalog import EXERCISES, choose
    from tinygrad_lab.lab.exercises.make import make_copy

    blank = root.parent / "blank"
    make_copy(choose("all"), blank)
    rng = np.random.default_rng(0)
    expected = {}
    for k in range(students):
        folder = clone(blank, root / f"student{k:03d}")
        for exercise in EXERCISES:
            draw = rng.uniform()
            if draw < 0.1:
                expected[(folder.name, exercise.name)] = "blank"
                continue
            mutant = None
            if draw < 0.3 and exercise.mutants:
                mutant = exercise.mutants[rng.integers(len(exercise.mutants))]
            (folder / "exercises" / f"{exercise.name}.py").write_text(solved_text(exercise, mutant))
            expected[(folder.name, exercise.name)] = mutant.kind if mutant else None
    return expected


def check(results: list, expected: dict) -> list[str]:
    wrong = []
    for result in results:
        for verdict in result.verdicts:
            want = expected[(result.student, verdict.exercise)]
            kind = verdict.failure.kind if verdict.failure else None
            ok = verdict.passed if want is None else not verdict.passed
            ok = ok and (want in (None, "blank") or kind == want)
            if not ok:
                wrong.append(f"{result.student} {verdict.exercise}: expected {want}, got {kind}")
    return wrong


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="4 students")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    students = 4 if args.quick else args.students
    from tinygrad_lab.lab.exercises import sandbox
    from tinygrad_lab.lab.exercises.grade import grade_class

    with tempfile.TemporaryDirectory(prefix="exercises-bench-") as tmp:
        root = Path(tmp) / "class"
        root.mkdir()
        expected = make_class(root, students)
        start = time.perf_counter()
        results = grade_class(sorted(root.iterdir()), None, sandbox.Limits(), root, progress=True)
        seconds = time.perf_counter() - start
    wrong = check(results, expected)
    figures = {"students": students, "seconds": round(seconds, 1)}
    figures |= {"per_student": round(seconds / students, 2), "wrong_verdicts": len(wrong)}
    print(json.dumps(figures))
    for line in wrong[:20]:
        print(line)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    target = TARGET * students / 100
    return 1 if wrong or seconds > target else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
