"""What only the class shows: a roll handed in twice, Part A figures identical to another
roll's, another roll's configuration (`class_findings`)."""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict

from tinygrad_lab.lab.audit.collect import CONFIGURATION_COPIED, SHARED_FIGURES, Submission
from tinygrad_lab.lab.audit.extract import (
    Document,
)
from tinygrad_lab.lab.audit.reproduce import (
    ran_value,
)
from tinygrad_lab.lab.audit.result import (
    Row,
    SubmissionAudit,
    figure_name,
)
from tinygrad_lab.lab.audit.rules_check import CONFIGURATION, expected_values
from tinygrad_lab.lab.rules import (
    RollNumberError,
    lab_config,
)


def _shared(first: SubmissionAudit, second: SubmissionAudit) -> list[str]:
    """The precise Part A figures two submissions print identically."""
    return [
        quantity
        for quantity, text in first.part_a_figures.items()
        if second.part_a_figures.get(quantity) == text and _decimals(text) >= 3
    ]


def _decimals(text: str) -> int:
    mantissa = text.lower().split("e")[0]
    return len(mantissa.partition(".")[2])


def _stated(audit: SubmissionAudit, documents: tuple[Document, ...]) -> dict[str, float]:
    """The configuration a submission states (its most precise mentions)."""
    stated = {}
    for quantity in CONFIGURATION_COPIED:
        mention = ran_value([m for d in documents for m in d.all(quantity)])
        if mention is not None and not isinstance(mention.value, str):
            stated[quantity] = float(mention.value)
    return stated


def class_findings(
    audits: list[SubmissionAudit], submissions: list[Submission]
) -> list[SubmissionAudit]:
    """Each audit with what only the class shows: Part A figures identical to another roll's
    (only the same configuration and seed give them), and a configuration that breaks the
    roll's rules but is another roll's in the class (Q4's non-compliance, named)."""
    notes: dict[str, list[str]] = defaultdict(list)
    told: dict[str, list[str]] = defaultdict(list)  # not findings: the original of a copy
    for i, first in enumerate(audits):
        for second in audits[i + 1 :]:
            shared = _shared(first, second)
            if first.roll != second.roll and len(shared) >= SHARED_FIGURES:
                _shared_notes(first, second, shared, notes, told)
    rolls = {a.roll for a in audits}
    configs = {}
    for roll in rolls:
        try:
            configs[roll] = expected_values(lab_config(roll))
        except RollNumberError:
            continue
    for audit, submission in zip(audits, submissions, strict=True):
        stated = _stated(audit, submission.documents)
        own = configs.get(audit.roll)
        if not stated or own is None or _same(own, stated):
            continue
        theirs = [
            roll for roll, values in configs.items() if roll != audit.roll and _same(values, stated)
        ]
        if theirs:
            notes[audit.name].append(
                f"its configuration ({_listed(stated)}) breaks roll {audit.roll}'s rules and is "
                f"the configuration of roll {', '.join(sorted(theirs))} in this class"
            )
    twice = _handed_in_twice(audits)
    return [
        dataclasses.replace(
            a,
            class_findings=tuple(notes[a.name]),
            class_notes=tuple(told[a.name]),
            handed_in=a.handed_in + tuple(twice[a.name]),
        )
        for a in audits
    ]


def _where(audit: SubmissionAudit) -> str:
    return ", ".join(f"{p.parent.name}/{p.name}" for p in audit.documents)


def _handed_in_twice(audits: list[SubmissionAudit]) -> dict[str, list[Row]]:
    """A row on each submission of a roll that two or more submissions are handed in as,
    naming the others."""
    by_roll: dict[str, list[SubmissionAudit]] = defaultdict(list)
    for audit in audits:
        if audit.roll:
            by_roll[audit.roll].append(audit)
    rows: dict[str, list[Row]] = defaultdict(list)
    for roll, same in by_roll.items():
        for audit in same if len(same) > 1 else ():
            others = "; ".join(f"{o.name} ({_where(o)})" for o in same if o is not audit)
            rows[audit.name].append(
                Row(figure_name("roll"), roll, None, "handed in twice", _where(audit),
                    f"{len(same)} submissions are handed in as roll {roll}: also {others}")
            )  # fmt: skip
    return rows


def _own_rules(audit: SubmissionAudit) -> bool:
    """Whether a submission's figures are reproduced under its own roll's configuration."""
    configuration = {figure_name(q) for q in CONFIGURATION}
    wrong = [r for r in audit.rules if r.finding and r.figure in configuration]
    return bool(audit.reproduction) and audit.reproduced and not wrong


def _shared_notes(
    first: SubmissionAudit,
    second: SubmissionAudit,
    shared: list[str],
    notes: dict[str, list[str]],
    told: dict[str, list[str]],
) -> None:
    """Two rolls' identical figures: when only one of them reproduces under its own roll's
    rules, it is the original (told, not flagged) and the other the copy; else both flagged."""
    example = f"{figure_name(shared[0])} = {first.part_a_figures[shared[0]]}"
    same = f"{len(shared)} Part A figures identical to"
    own = {a.name: _own_rules(a) for a in (first, second)}
    for one, other in ((first, second), (second, first)):
        theirs = f"{other.name}'s (roll {other.roll}), e.g. {example}"
        if own[one.name] and not own[other.name]:
            told[one.name].append(
                f"{same} {theirs}; they reproduce under roll {one.roll}'s rules (this "
                f"submission's), and {other.name}'s configuration is wrong for its roll: "
                f"this is the original"
            )
        elif own[other.name] and not own[one.name]:
            notes[one.name].append(
                f"{same} {theirs}; they reproduce under roll {other.roll}'s rules, not under "
                f"roll {one.roll}'s (this submission's): copied from {other.name}"
            )
        else:
            notes[one.name].append(
                f"{same} {theirs}: only the same configuration and seed give the same "
                "figures (shared work)"
            )


def _same(rules: dict[str, object], stated: dict[str, float]) -> bool:
    """Whether stated values are a roll's (printed decimals allowed: 1/7 as 0.142857)."""
    return all(math.isclose(float(rules[q]), v, rel_tol=1e-6) for q, v in stated.items())


def _listed(stated: dict[str, float]) -> str:
    return ", ".join(f"{figure_name(q)} {v:g}" for q, v in stated.items())
