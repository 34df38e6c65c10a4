"""Audit submissions: read every file under the paths given, group them into submissions, audit
each (rules, seed search, consistency), then the class as a whole (shared figures, another
roll's configuration).

A submission is the documents of one roll number in one folder: a student's notebook and
write-up together (the seed documents are one submission), each student of a class folder on
their own, whether the class keeps one folder a student or all files side by side."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tinygrad_lab.lab.audit.consistency import check_consistency
from tinygrad_lab.lab.audit.extract import (
    SUFFIXES,
    Document,
    ExtractionError,
    most_precise,
    read_document,
)
from tinygrad_lab.lab.audit.reproduce import (
    ConfigurationError,
    EpochOneLosses,
    reported,
    search_seed,
    trained_configuration,
)
from tinygrad_lab.lab.audit.result import (
    ClassAudit,
    DocumentSeed,
    Row,
    SubmissionAudit,
    figure_name,
)
from tinygrad_lab.lab.audit.rules_check import CONFIGURATION, check_rules, expected_values
from tinygrad_lab.lab.rules import NOTEBOOK_SEEDS, RollNumberError, lab_config

REPORT_NAMES = {"audit.md", "audit.csv", "audit.json"}  # the audit's own files: never read back
SHARED_FIGURES = 3  # identical printed Part A figures (3+ decimals) that only a shared run gives
CONFIGURATION_COPIED = ("hidden_width", "hidden_layers", "learning_rate", "init_range")


@dataclass(frozen=True)
class Submission:
    """The documents of one roll in one folder (``name`` is how reports call it: the roll, or
    the roll a file's name gives where its text gives another)."""

    name: str
    roll: str
    documents: tuple[Document, ...]


def _files(paths: Sequence[str | Path], errors: list[str]) -> list[Path]:
    """The submission files under ``paths``; a line in ``errors`` for each path with none."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            found = sorted(
                Path(root) / name
                for root, dirs, names in os.walk(path)
                for name in names
                if Path(name).suffix in SUFFIXES
                and name not in REPORT_NAMES
                and not any(part.startswith(".") for part in Path(root).relative_to(path).parts)
            )
            if not found:
                errors.append(f"{path}: no submission in this folder (expected {_suffixes()})")
            files += found
        else:
            errors.append(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


def _read(file: Path, errors: list[str]) -> Document | None:
    """The document in ``file``, or None with a line in ``errors`` saying why not; a line too
    for each figure that does not parse (the document is audited without it)."""
    try:
        document = read_document(file)
    except ExtractionError as err:
        errors.append(str(err))
        return None
    if document.roll is None:
        bad = [u.text for u in document.unparsed if u.quantity == "roll"]
        found = f"roll number {bad[0]!r} is not all digits" if bad else "no roll number"
        errors.append(
            f"{file}: {found} (expected e.g. ROLL_NUMBER = 102303346 or "
            "'Roll Number: 102303346'); not audited"
        )
        return None
    errors += [
        f"{file.parent / u.where}: {figure_name(u.quantity)} {u.text!r} does not parse as a "
        "number; audited as not found"
        for u in document.unparsed
        if u.quantity != "roll"
    ]
    return document


def collect(paths: Sequence[str | Path]) -> tuple[list[Submission], list[str]]:
    """The submissions under ``paths`` (files, or folders searched recursively) and one line
    for each path or file that could not be read."""
    errors: list[str] = []
    groups: dict[tuple[Path, str, str], list[Document]] = defaultdict(list)
    for file in _files(paths, errors):
        document = _read(file, errors)
        if document is not None:
            groups[file.parent, document.roll, _named(file) or document.roll].append(document)
    submissions = []
    for (folder, roll, named), documents in groups.items():
        name = named if sum(n == named for _, _, n in groups) == 1 else f"{folder.name}/{named}"
        submissions.append(Submission(name, roll, tuple(documents)))
    return submissions, errors


def _named(file: Path) -> str | None:
    """The roll number a file's name gives (``102300125.ipynb``, ``lab6_102300125.md``): a
    file whose name says another roll than its text is that student's, not merged into the
    submission of the roll its text gives (named by the file's roll, audited by its text's)."""
    found = re.findall(r"(?<!\d)\d{6,}(?!\d)", file.stem)
    return found[0] if len(found) == 1 else None


def _suffixes() -> str:
    return ", ".join(sorted(SUFFIXES))


def audit_submission(
    submission: Submission, seed_range: tuple[int, int] = NOTEBOOK_SEEDS
) -> SubmissionAudit:
    """Rules, the seed search of each document, and consistency, for one submission."""
    documents = list(submission.documents)
    try:
        rules_config = lab_config(submission.roll)
    except RollNumberError as err:
        rules_config = None
        rules = [Row("roll number", submission.roll, None, "wrong", note=str(err))]
    else:
        rules = check_rules(documents, rules_config)
    reproduction: list[DocumentSeed] = []
    configuration: dict[str, float | int | str] = {}
    if rules_config is not None:
        try:
            config = trained_configuration(documents, rules_config)
        except ConfigurationError as err:
            reproduction = [
                DocumentSeed(d.path, None, "not searched", f"cannot train: {err}")
                for d in documents
                if reported(d)
            ]
        else:
            configuration = config.network()
            losses = EpochOneLosses(range(seed_range[0], seed_range[1] + 1))
            searched = (search_seed(document, config, losses) for document in documents)
            reproduction = [result for result in searched if result is not None]
    consistency = [row for document in documents for row in check_consistency(document)]
    return SubmissionAudit(
        submission.name,
        submission.roll,
        tuple(d.path for d in documents),
        configuration,
        tuple(rules),
        tuple(reproduction),
        tuple(consistency),
        {m.quantity: m.text for d in documents for m in reported(d)},
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
        mention = most_precise(m for d in documents for m in d.all(quantity))
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
    return [
        dataclasses.replace(a, class_findings=tuple(notes[a.name]), class_notes=tuple(told[a.name]))
        for a in audits
    ]


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


def audit_paths(
    paths: Sequence[str | Path],
    seed_range: tuple[int, int] = NOTEBOOK_SEEDS,
    workers: int | None = None,
    progress: bool = False,
) -> ClassAudit:
    """Audit every submission under ``paths``: one alone here, a class on a process pool with
    a progress bar (the sweeps' own, `sweep.run_many`)."""
    submissions, errors = collect(paths)
    audit = partial(audit_submission, seed_range=seed_range)
    if len(submissions) > 1:
        from tinygrad_lab.lab.sweep import run_many

        audits = run_many(submissions, workers=workers, progress=progress, fn=audit)
    else:
        audits = [audit(s) for s in submissions]
    return ClassAudit(tuple(class_findings(audits, submissions)), tuple(errors), seed_range)
