"""The grades as a student reads them (markdown), as a class sheet (``grades.csv``) and as data
(JSON)."""

from __future__ import annotations

import csv
import io
from typing import Any

from tinygrad_lab.lab.exercises.grade import StudentResult
from tinygrad_lab.lab.exercises.judge import Verdict


def _verdict_lines(verdict: Verdict) -> list[str]:
    mark = "passed" if verdict.passed else "failed"
    lines = [f"## `{verdict.exercise}`: {mark}, {verdict.earned}/{verdict.points}", ""]
    failure = verdict.failure
    if failure is not None:
        if failure.case >= 0:
            lines.append(f"- smallest failing case: case {failure.case + 1}, {failure.inputs}")
            for name, values in failure.values.items():
                lines.append(f"  - `{name}` = `{values}`")
        lines.append(f"- {failure.message}")
        if failure.hint:
            lines.append(f"- hint: {failure.hint}")
    lines += [f"- note: {note}" for note in verdict.notes]
    return [*lines, ""]


def markdown(result: StudentResult) -> str:
    lines = [
        f"# Exercises: {result.student}",
        "",
        f"**{result.earned} / {result.possible} points**",
        "",
    ]
    lines += [f"- {note}" for note in result.notes]
    lines += ["| exercise | result | points |", "|---|---|---|"]
    for verdict in result.verdicts:
        mark = "passed" if verdict.passed else "failed"
        lines.append(f"| {verdict.exercise} | {mark} | {verdict.earned}/{verdict.points} |")
    lines.append("")
    for verdict in result.verdicts:
        lines += _verdict_lines(verdict)
    return "\n".join(lines)


def grades_csv(results: list[StudentResult]) -> str:
    names = list(dict.fromkeys(v.exercise for r in results for v in r.verdicts))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *names, "total", "possible"])
    for result in results:
        earned = {v.exercise: v.earned for v in result.verdicts}
        writer.writerow(
            [result.student, *(earned.get(n, "") for n in names), result.earned, result.possible]
        )
    return out.getvalue()


def as_json(results: list[StudentResult]) -> list[dict[str, Any]]:
    def verdict(v: Verdict) -> dict[str, Any]:
        failure = v.failure
        found = None
        if failure is not None:
            found = {
                "case": failure.case + 1 if failure.case >= 0 else None,
                "inputs": failure.inputs,
            }
            found |= {"message": failure.message, "mistake": failure.kind, "hint": failure.hint}
            found["values"] = failure.values
        return {
            "exercise": v.exercise,
            "passed": v.passed,
            "points": v.earned,
            "of": v.points,
            "failure": found,
            "notes": v.notes,
        }

    return [
        {
            "student": r.student,
            "points": r.earned,
            "of": r.possible,
            "notes": r.notes,
            "exercises": [verdict(v) for v in r.verdicts],
        }
        for r in results
    ]
