"""What goes back to the students: ``grades.csv`` (roll, name, verdict, findings: one row a
student, for an LMS to import) and ``feedback/<roll>.md``. Both are written for the student:
neither names another student of the class, nor their roll (`verdict.Anonymiser`)."""

from __future__ import annotations

import csv
import io

from tinygrad_lab.lab.audit.students import Entry, Gradebook
from tinygrad_lab.lab.audit.verdict import Anonymiser, Verdict, verdict

GRADE_COLUMNS = ["roll", "name", "verdict", "findings"]


def _class_rolls(book: Gradebook) -> set[str]:
    """Every roll the class's outputs could name: the roster's, the students', and the rolls
    the submissions' own text gives."""
    rolls = {entry.roll for entry in book.entries}
    rolls |= {e.submission.roll for e in book.entries if e.submission is not None}
    return rolls | set(book.roster.rolls if book.roster is not None else ())


def _anonymiser(book: Gradebook, roll: str, everyone: set[str]) -> Anonymiser:
    """Takes out every roll but ``roll``, and the other students' names (the roster's, and
    the submissions' names, which may carry a folder's)."""
    submissions = [e.submission for e in book.entries if e.submission is not None]
    own = {book.name(roll)} | {
        e.submission.name for e in book.entries if e.roll == roll and e.submission
    }
    # a submission's name is a roll (taken out as one) or holds a folder's name
    names = {book.name(r) for r in everyone} | {s.name for s in submissions if "/" in s.name}
    # a name inside the student's own ("Ann" in "Ann Lee") would take theirs apart
    others = {n for n in names - own if n and not any(n in mine for mine in own)}
    return Anonymiser(everyone - {roll}, others)


def _findings(entries: list[Entry]) -> dict[Verdict, list[str]]:
    """The student's reasons by verdict, most urgent first, each said once."""
    by_verdict: dict[Verdict, list[str]] = {}
    for reason in sorted(
        (reason for entry in entries for reason in entry.reasons),
        key=lambda reason: reason.verdict.priority,
    ):
        said = by_verdict.setdefault(reason.verdict, [])
        if reason.feedback not in said:
            said.append(reason.feedback)
    return by_verdict


def grades_csv(book: Gradebook) -> str:
    """One row a student (the roster's order, then rolls not on it): roll, name (the roster's),
    verdict, and the findings as the student's feedback gives them (" | " between them)."""
    everyone = _class_rolls(book)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(GRADE_COLUMNS)
    for roll, entries in book.students():
        anonymise = _anonymiser(book, roll, everyone)
        reasons = [reason for entry in entries for reason in entry.reasons]
        said = [f for found in _findings(entries).values() for f in found]
        findings = " | ".join(anonymise(f) for f in said)
        writer.writerow([roll, book.name(roll), verdict(reasons).name, findings])
    return text.getvalue()


def _submission_lines(entry: Entry) -> list[str]:
    submission = entry.submission
    if submission is None:
        return []
    seeds = "; ".join(
        f"{d.path.name}: {'seed ' + str(d.seed) if d.seed is not None else d.outcome}"
        for d in submission.reproduction
    )
    lines = [f"Handed in: {', '.join(path.name for path in submission.documents)}."]
    if submission.roll != entry.roll:
        lines.append(
            f"Its documents give the roll number {submission.roll}, not {entry.roll}: its "
            "rules were checked against the roll the documents give."
        )
    if seeds:
        lines.append(f"Seed search: {seeds}.")
    return lines


def feedback_markdown(book: Gradebook, roll: str, entries: list[Entry], everyone: set[str]) -> str:
    """One student's feedback: the verdict, what was handed in, and every finding."""
    reasons = [reason for entry in entries for reason in entry.reasons]
    name = book.name(roll)
    lines = [f"# Lab 6 audit: roll {roll}" + (f" ({name})" if name else ""), ""]
    lines += [f"**Verdict**: {verdict(reasons).name}.", ""]
    for entry in entries:
        lines += [*_submission_lines(entry), ""]
    lines += ["## Findings", ""]
    for found, said in _findings(entries).items():
        lines += [f"### {found.name}", "", *(f"- {s}" for s in said), ""]
    if not reasons:
        lines.append("None: every rule checked is correct, and a seed reproduces every figure.")
    anonymise = _anonymiser(book, roll, everyone)
    return anonymise("\n".join(lines).rstrip("\n") + "\n")


def feedback_files(book: Gradebook) -> dict[str, str]:
    """Each student's ``feedback/<roll>.md``, by roll."""
    everyone = _class_rolls(book)
    return {
        roll: feedback_markdown(book, roll, entries, everyone) for roll, entries in book.students()
    }
