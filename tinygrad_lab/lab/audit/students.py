"""The class as an instructor grades it: one `Entry` a submission with its verdict and reasons
(`audit.verdict`), and, with a roster, one for each student on it who handed in nothing or only
files the audit cannot read; a submission whose roll is not on the roster, or is on it twice,
is checked by hand. `Gradebook.entries` are in the order of their verdicts' priorities."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tinygrad_lab.lab.audit.result import ClassAudit, SubmissionAudit
from tinygrad_lab.lab.audit.verdict import (
    CHECK_BY_HAND,
    NOTHING,
    Reason,
    Verdict,
    reasons,
    student_roll,
    verdict,
)
from tinygrad_lab.lab.roster import Roster, RosterRow

ROLL_IN_PATH = re.compile(r"(?<!\d)\d{3,}(?!\d)")


@dataclass(frozen=True)
class Entry:
    """One row of the class: a submission (or None: a roster student with none), the student's
    roll and roster row, the files naming their roll that the audit could not read, and why
    its verdict."""

    roll: str
    submission: SubmissionAudit | None
    roster_row: RosterRow | None
    reasons: tuple[Reason, ...]
    unread: tuple[Path, ...] = ()

    @property
    def verdict(self) -> Verdict:
        return verdict(list(self.reasons))

    def to_json(self) -> dict[str, object]:
        return {
            "roll": self.roll,
            "submission": self.submission.name if self.submission else None,
            **self.verdict.to_json(),
            "reasons": [reason.to_json() for reason in self.reasons],
            "unread": [str(path) for path in self.unread],
        }


@dataclass(frozen=True)
class Gradebook:
    """Every entry, most urgent verdict first (the audit's order within a verdict), and the
    roster they were matched against."""

    entries: tuple[Entry, ...]
    roster: Roster | None = None

    @property
    def clean(self) -> bool:
        return all(entry.verdict.name == "clean" for entry in self.entries)

    def students(self) -> list[tuple[str, list[Entry]]]:
        """Each student's roll and entries: the roster's order, then the rolls not on it."""
        by_roll: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            by_roll[entry.roll].append(entry)
        order = list(self.roster.rolls) if self.roster is not None else []
        listed = set(order)
        order += [roll for roll in by_roll if roll not in listed]
        return [(roll, by_roll[roll]) for roll in order if roll in by_roll]

    def name(self, roll: str) -> str:
        return self.roster.name(roll) if self.roster is not None else ""

    def to_json(self) -> list[dict[str, object]]:
        return [entry.to_json() for entry in self.entries]


def _listed_rows(rows: tuple[int, ...]) -> str:
    return ", ".join(map(str, rows[:-1])) + f" and {rows[-1]}"


def _roster_reasons(roll: str, roster: Roster | None) -> list[Reason]:
    """A roll not on the roster, or on it twice: who handed this in is for the instructor."""
    if roster is None:
        return []
    if roll not in roster:
        text = f"roll {roll} is not on the roster {roster.path.name}"
        feedback = "your roll number is not on the class roster"
        return [Reason(CHECK_BY_HAND, text, feedback, "roster")]
    if roll in roster.repeated:
        rows = _listed_rows(roster.repeated[roll])
        text = f"roll {roll} is on the roster {roster.path.name} twice (rows {rows})"
        feedback = "your roll number is on the class roster twice"
        return [Reason(CHECK_BY_HAND, text, feedback, "roster")]
    return []


def _unread_files(
    paths: Sequence[str | Path], read: set[Path], exclude: Path | None
) -> dict[str, list[Path]]:
    """The files under ``paths`` that no submission holds (a PDF, a .docx, a file that could
    not be read), by each roll-like number in their path below the given one."""
    found: dict[str, list[Path]] = defaultdict(list)
    skip = exclude.resolve() if exclude is not None else None
    for path in map(Path, paths):
        if path.is_file():
            files = [(path, path.name)]
        elif path.is_dir():
            files = [
                (Path(root) / name, str((Path(root) / name).relative_to(path)))
                for root, dirs, names in os.walk(path)
                for name in names
                if not any(part.startswith(".") for part in Path(root).relative_to(path).parts)
                and not name.startswith(".")
            ]
        else:
            continue
        for file, relative in files:
            if file in read or (skip is not None and file.resolve().is_relative_to(skip)):
                continue
            for roll in dict.fromkeys(ROLL_IN_PATH.findall(relative)):
                found[roll].append(file)
    return found


def gradebook(
    audit: ClassAudit,
    roster: Roster | None = None,
    paths: Sequence[str | Path] = (),
    exclude: Path | None = None,
) -> Gradebook:
    """Each submission with its verdict; with ``roster``, each student on it with no
    submission too: "nothing handed in", or checked by hand when files under ``paths`` (not
    under ``exclude``, the audit's own output) name their roll but could not be read."""
    entries = []
    for submission in audit.submissions:
        roll = student_roll(submission)
        row = roster.get(roll) if roster is not None else None
        why = reasons(submission) + _roster_reasons(roll, roster)
        entries.append(Entry(roll, submission, row, tuple(why)))
    if roster is not None:
        handed_in = {entry.roll for entry in entries}
        read = {path for s in audit.submissions for path in s.documents}
        unread = _unread_files(paths, read, exclude)
        for row in roster:
            if row.roll in handed_in:
                continue
            files = tuple(unread.get(row.roll, ()))
            if files:
                names = ", ".join(path.name for path in files)
                text = f"handed in only files the audit cannot read: {names}"
                feedback = f"your files could not be read by the audit ({names}): checked by hand"
                why = [Reason(CHECK_BY_HAND, text, feedback, "handed in")]
            else:
                text = f"no file of roll {row.roll} among the submissions"
                feedback = "no file of yours was found among the submissions"
                why = [Reason(NOTHING, text, feedback, "handed in")]
            why += _roster_reasons(row.roll, roster)
            entries.append(Entry(row.roll, None, row, tuple(why), files))
    ordered = sorted(entries, key=lambda entry: entry.verdict.priority)  # stable
    return Gradebook(tuple(ordered), roster)
