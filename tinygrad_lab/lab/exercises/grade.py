"""Grading submissions: one child process per student, the exercises in dependency order, the
project's own implementation standing in for a failed prerequisite, every verdict decided here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tinygrad_lab.lab.exercises import judge, sandbox
from tinygrad_lab.lab.exercises.catalog import Exercise, choose
from tinygrad_lab.lab.exercises.judge import Failure, Verdict

MANIFEST = "exercises.json"  # in a student's copy: which exercises it holds

TRIED = {
    "network": "tried to open a network connection (refused)",
    "exit": "called exit() (an exit ends nothing here: the grader decides)",
    "memory": "ran out of memory (the limit is the grader's)",
    "time": "ran past the time limit of a case (stopped)",
}


@dataclass
class StudentResult:
    student: str
    verdicts: list[Verdict]
    notes: list[str] = field(default_factory=list)

    @property
    def earned(self) -> int:
        return sum(v.earned for v in self.verdicts)

    @property
    def possible(self) -> int:
        return sum(v.points for v in self.verdicts)


def manifest_exercises(folder: Path) -> tuple[Exercise, ...]:
    """The exercises a student's copy was made with (its ``exercises.json``)."""
    path = folder / MANIFEST
    try:
        names = json.loads(path.read_text())["exercises"]
        return choose(",".join(names))
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(
            f"{folder}: no readable {MANIFEST} (a copy made by `exercises make`); give --set"
        ) from None


def _zero(exercise: Exercise, message: str, notes: list[str]) -> Verdict:
    return Verdict(exercise.name, exercise.points, False, Failure(-1, "", message), notes)


def _grade_one(
    exercise: Exercise,
    child: sandbox.Child,
    folder: Path,
    done: dict,
    limits: sandbox.Limits,
    watch: sandbox.Watch,
) -> Verdict:
    settings = sandbox.write_cases(folder / "cases" / f"{exercise.name}.npz", exercise.name)
    use = {n: "student" if v.passed else "project" for n, v in done.items()}
    notes = [
        f"the project's `{n}` stood in for yours (it failed)"
        for n in exercise.needs
        if use.get(n) == "project"
    ]
    outputs = folder / "outputs" / f"{exercise.name}.npy"
    request = {
        "exercise": exercise.name,
        "use": use,
        "cases": str(folder / "cases" / f"{exercise.name}.npz"),
    }
    request |= {"settings": settings, "outputs": str(outputs), "seconds": limits.case_seconds}
    reply = child.request(request, limits.exercise_seconds)
    edits = watch.changes(new_files=False)
    if edits:
        return _zero(exercise, "edited files outside its folder: " + "; ".join(edits), notes)
    if reply is None:
        return _zero(
            exercise,
            f"its process ended, or ran past {limits.exercise_seconds:g} s (killed): no result",
            notes,
        )
    notes += [TRIED[t] for t in reply.get("tried", []) if t in TRIED]
    if reply.get("tampered"):
        child.kill()  # (its patches stay in that process: the next exercise gets a new one)
        what = ", ".join(reply["tampered"][:5])
        return _zero(
            exercise, f"changed the project or NumPy while running ({what}): monkeypatching", notes
        )
    if "import_error" in reply:
        return _zero(exercise, reply["import_error"], notes)
    got = sandbox.read_outputs(outputs, reply.get("index", []))
    failure = judge.judge(exercise.name, got, reply.get("errors", {}))
    return Verdict(exercise.name, exercise.points, failure is None, failure, notes)


def grade_submission(
    folder: Path, exercises: Iterable[Exercise], limits: sandbox.Limits, watch: sandbox.Watch
) -> StudentResult:
    """Grade one student's folder (its ``exercises/*.py``) in a child process of its own."""
    exercises = list(exercises)
    verdicts: dict[str, Verdict] = {}
    asked: dict[int, Verdict] = {}  # request number -> the verdict of the exercise it asked for
    with sandbox.workspace() as tmp:
        work = Path(tmp)
        files = sandbox.copy_submission(folder, [e.name for e in exercises], work)
        child = sandbox.Child(work, files, limits)
        try:
            for exercise in exercises:
                if exercise.name not in files:
                    verdicts[exercise.name] = _zero(
                        exercise, f"no file exercises/{exercise.name}.py", []
                    )
                    continue
                # (a child killed for overrunning is started afresh for the next exercise)
                verdicts[exercise.name] = _grade_one(exercise, child, work, verdicts, limits, watch)
                asked[child.sent] = verdicts[exercise.name]
            for request in child.finish():  # a reply forged: found when the real one came
                asked[request].passed = False
                asked[request].notes.append("wrote a reply of its own (forged) before the grader's")
        finally:
            child.close()
        printed = _printed(work / "child.log")
        planted = watch.changes()  # (new files: once a student, after the quick checks)
    notes = [f"printed (the grader ignores it): {printed!r}"] if printed else []
    if planted:  # (found once a student: which exercise did it is not known)
        notes.append(f"edited the grader's files: {'; '.join(planted)} (every exercise zero)")
        for verdict in verdicts.values():
            verdict.passed = False
    return StudentResult(folder.name, list(verdicts.values()), notes)


def _printed(log: Path) -> str:
    try:
        with log.open("rb") as file:
            first = file.read(2000).decode(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return first[0][:80] if first else ""


def grade_class(
    folders: list[Path],
    exercises: tuple[Exercise, ...] | None,
    limits: sandbox.Limits,
    class_folder: Path | None = None,
    progress: bool = False,
    watched: Path = sandbox.PROJECT_ROOT / "tinygrad_lab",
) -> list[StudentResult]:
    """Grade each folder (a student) in turn, a progress bar on stderr when asked. The files
    under ``watched`` (the grader's project) must not change while a child runs."""
    watch = sandbox.Watch(watched)
    watch.start()
    around = sandbox.Watch(class_folder) if class_folder else None
    if around:
        around.start()
    results = []
    bar = _bar(len(folders)) if progress else None
    for folder in folders:
        chosen = exercises or manifest_exercises(folder)
        result = grade_submission(folder, chosen, limits, watch)
        if around:
            edits = around.changes()
            if edits:
                result.notes.append(
                    "edited other files of the class folder: "
                    + "; ".join(edits)
                    + " (every exercise zero)"
                )
                for verdict in result.verdicts:
                    verdict.passed = False
        results.append(result)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return results


def _bar(total: int):  # noqa: ANN202
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="grading", unit="student")
