"""One verdict a student, with a priority: the order an instructor reads the class in. The table
`VERDICTS` is the one place the verdicts are defined; a submission's verdict is the first (most
urgent) of its reasons' (`reasons`), "clean" when it has none.

Each `Reason` is written twice: for the instructor (`text`, naming whom a copy matches) and for
the student (`feedback`, which never names another student: a copy "is identical to another
submission in this class")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinygrad_lab.lab.audit.result import SubmissionAudit


@dataclass(frozen=True)
class Verdict:
    priority: int  # 1 is read first
    name: str
    means: str

    def to_json(self) -> dict[str, object]:
        return {"priority": self.priority, "verdict": self.name}


COPIED = Verdict(
    1,
    "copied / another roll's configuration",
    "what only the class shows: Part A figures identical to another roll's submission (only "
    "the same configuration and seed give them), or a configuration that breaks the roll's "
    "rules and is another roll's in the class",
)
NOT_REPRODUCED = Verdict(
    2,
    "not reproduced / figures disagree",
    "no searched seed reproduces a document's Part A figures with the submission's own "
    "configuration (cells run in another order or again, code changed, or figures edited), "
    "or a Part A figure disagrees with the submission's own (a GRI that is not the ratio of "
    "its norms, a figure given two values)",
)
WRONG = Verdict(
    3,
    "wrong rule / answer",
    "the configuration or a Part B answer is not the roll's rule, arithmetic written out does "
    "not hold, or the figures contradict a claim",
)
CHECK_BY_HAND = Verdict(
    4,
    "check by hand",
    "the audit cannot decide: no Part A figure to reproduce, a search that could not run, "
    "only files it cannot read, documents that give another roll than their file's name, a "
    "roll not on the roster or on it twice, a bad roll number",
)
NOTHING = Verdict(5, "nothing handed in", "a student on the roster with no file at all")
CLEAN = Verdict(
    6,
    "clean",
    "every rule checked correct, every document reproduced by a seed, nothing inconsistent",
)
VERDICTS = (COPIED, NOT_REPRODUCED, WRONG, CHECK_BY_HAND, NOTHING, CLEAN)


@dataclass(frozen=True)
class Reason:
    """Why a verdict: the instructor's sentence and the student's."""

    verdict: Verdict
    text: str
    feedback: str
    # "finding": what the audit's own report lists; "check": what only the verdict adds (a
    # roll that is not the file's, nothing to reproduce); "roster": a roll not on the roster,
    # or on it twice; "handed in": nothing, or only files the audit cannot read
    source: str = "finding"

    def to_json(self) -> dict[str, object]:
        return {**self.verdict.to_json(), "text": self.text}


def verdict(reasons: list[Reason]) -> Verdict:
    """The most urgent of ``reasons``' verdicts; clean when there is none."""
    return min((r.verdict for r in reasons), key=lambda v: v.priority, default=CLEAN)


def student_roll(submission: SubmissionAudit) -> str:
    """The roll of the student who handed ``submission`` in: the roll its file's (or folder's)
    name gives, else the roll its text gives."""
    tail = submission.name.rsplit("/", 1)[-1]
    return tail if tail.isdigit() else submission.roll


def _sentence(figure: str, reported: str | None, expected: str | None, where: str) -> str:
    against = f", expected {expected}" if expected else ""
    return f"{figure} {reported or 'not found'}{against} ({where})"


def _row_verdict(section: str, verdict_name: str, figure: str) -> Verdict:
    """A finding row's verdict: by its section and its own verdict; an unknown kind of finding
    is checked by hand, never called a copy."""
    if section == "rules" and figure == "roll number":
        return CHECK_BY_HAND  # a roll that breaks the rule: nothing else could be checked
    if section == "rules" and verdict_name == "wrong":
        return WRONG
    if section == "consistency" and verdict_name == "inconsistent":
        return NOT_REPRODUCED if figure.startswith("run ") else WRONG  # a Part A figure
    if section == "consistency" and verdict_name == "contradicted":
        return WRONG
    if section == "reproduction" and verdict_name == "not reproduced":
        return NOT_REPRODUCED
    return CHECK_BY_HAND


_COUNT = re.compile(r"^(\d+) Part A figures identical to ")
_CONFIGURATION = re.compile(r"^its configuration \((?P<stated>.*)\) breaks roll ")


def _class_feedback(note: str) -> str | None:
    """A class finding told to the student without naming anyone (None: a kind this does not
    know, which `Anonymiser` then scrubs)."""
    if match := _COUNT.match(note):
        how = (
            "they reproduce under that submission's roll's rules, not under yours"
            if "copied from" in note
            else "only the same configuration and seed give the same figures"
        )
        return f"{match[1]} Part A figures identical to another submission in this class: {how}"
    if match := _CONFIGURATION.match(note):
        return (
            f"the configuration ({match['stated']}) breaks your roll's rules and is the "
            "configuration of another roll in this class"
        )
    return None


def reasons(submission: SubmissionAudit) -> list[Reason]:
    """Every reason a submission is not clean, from its audit alone (the roster's are added by
    `audit.students`)."""
    out = [
        Reason(COPIED, note, _class_feedback(note) or note) for note in submission.class_findings
    ]
    for document in submission.reproduction:
        name = document.path.name
        if document.outcome == "not reproduced":
            text = f"{name}: {document.explanation}"
            out.append(Reason(NOT_REPRODUCED, text, text))
        elif document.outcome != "reproduced":
            text = f"{name}: {document.outcome}: {document.explanation}"
            out.append(Reason(CHECK_BY_HAND, text, text))
    # (what was handed in: a roll mismatch, a roll handed in twice, nothing to audit, an
    # unreadable format, are the "submission" rows, checked by hand)
    for section in ("submission", "rules", "reproduction", "consistency"):
        for row in submission.sections()[section]:
            if row.finding:
                text = f"{row.verdict}: " + _sentence(
                    row.figure, row.reported, row.expected, row.where
                )
                if row.note:
                    text += f": {row.note}"
                out.append(Reason(_row_verdict(section, row.verdict, row.figure), text, text))
    return out


class Anonymiser:
    """A student's feedback with every other student of the class taken out: their rolls (as
    "another roll of this class") and their names, from the roster or the submissions'."""

    def __init__(self, others: set[str], names: set[str] = frozenset()) -> None:
        rolls = sorted({r for r in others if r}, key=len, reverse=True)
        self._rolls = re.compile(
            r"(?:\broll\s+)?(?<!\d)(?:" + "|".join(map(re.escape, rolls)) + r")(?!\d)"
            if rolls
            else r"(?!)"
        )
        words = sorted({n for n in names if len(n) >= 3}, key=len, reverse=True)
        self._names = re.compile(
            r"\b(?:" + "|".join(map(re.escape, words)) + r")\b" if words else r"(?!)"
        )

    def __call__(self, text: str) -> str:
        text = self._names.sub("another student", text)  # first: a name may hold a roll
        return self._rolls.sub("another roll of this class", text)
