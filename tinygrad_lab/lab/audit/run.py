"""Audit submissions: read every file under the paths given, group them into submissions, audit
each (what was handed in, rules, seed search, consistency), then the class as a whole (a roll
handed in twice, shared figures, another roll's configuration).

A submission is the documents of one roll number in one folder (or one student's folder and
its subfolders): a student's notebook and write-up together (the seed documents are one
submission), each student of a class folder on their own, whether the class keeps one folder a
student or all files side by side. Its roll is whose it is by how it was handed in (its
folder's or file's name, else its title, else its code's ROLL_NUMBER: `handed_in`); a code or
title that gives another roll is a finding, and so are a roll handed in twice, a submission
with no Part A figure ("nothing to audit") and one the audit cannot read ("unreadable
format")."""

from __future__ import annotations

import dataclasses
import functools
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
    read_document,
)
from tinygrad_lab.lab.audit.reproduce import (
    ConfigurationError,
    EpochOneLosses,
    part_a_quantities,
    placed,
    ran_value,
    reported,
    search_seed,
    trained_configuration,
)
from tinygrad_lab.lab.audit.result import (
    ClassAudit,
    DocumentSeed,
    ReadError,
    Row,
    SubmissionAudit,
    figure_name,
)
from tinygrad_lab.lab.audit.rules_check import CONFIGURATION, check_rules, expected_values
from tinygrad_lab.lab.rules import (
    EXAMPLE_ROLL,
    NOTEBOOK_SEEDS,
    LabConfig,
    RollNumberError,
    lab_config,
)

REPORT_NAMES = {"audit.md", "audit.csv", "audit.json"}  # the audit's own files: never read back
SHARED_FIGURES = 3  # identical printed Part A figures (3+ decimals) that only a shared run gives
CONFIGURATION_COPIED = ("hidden_width", "hidden_layers", "learning_rate", "init_range")


# who a submission is by, from the most to the least trusted: a class's folders and file names
# are how work is handed in; a title and the code are what a student typed (or copied)
ROLL_SOURCES = {
    "folder": "its folder's name",
    "file": "its file's name",
    "title": "its title",
    "code": "its code's ROLL_NUMBER",
}


@dataclass(frozen=True)
class NamedRoll:
    """A roll number a submission names: by its folder's or file's name, its title, or the
    ``ROLL_NUMBER`` its code runs with (``by``, a key of `ROLL_SOURCES`)."""

    roll: str
    by: str
    where: str

    def __str__(self) -> str:
        return f"{self.roll} ({ROLL_SOURCES[self.by]}, {self.where})"


@dataclass(frozen=True)
class Unreadable:
    """A file handed in that the audit cannot read, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Submission:
    """The documents of one roll in one folder. ``roll`` is whose it is (`handed_in`: its
    folder's name, its file's, its title, else its code's roll); ``name`` is how reports
    call it (the roll, or folder/roll when two folders hold one roll); ``rolls``: every roll
    it names, each source once; ``unreadable``: its files that could not be read, when it
    has no document the audit can read."""

    name: str
    roll: str
    documents: tuple[Document, ...]
    rolls: tuple[NamedRoll, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()


def _files(paths: Sequence[str | Path], errors: list[str]) -> list[tuple[Path, Path | None]]:
    """Every file under ``paths``, each with the folder given that holds it (None: the file
    was given itself); a line in ``errors`` for each path that is not there."""
    files: list[tuple[Path, Path | None]] = []
    for path in map(Path, paths):
        if path.is_file():
            files.append((path, None))
        elif path.is_dir():
            files += sorted(
                (Path(root) / name, path)
                for root, dirs, names in os.walk(path)
                for name in names
                if name not in REPORT_NAMES
                and not name.startswith(".")
                and not any(part.startswith(".") for part in Path(root).relative_to(path).parts)
            )
        else:
            errors.append(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


def _name_roll(name: str, length: int | None) -> str | None:
    """The roll number a file's or folder's name gives (``102300125.ipynb``,
    ``lab6_102300125.md``): its one number of six digits or more, of ``length`` digits when
    the class's rolls have that length (a date in a name is no roll)."""
    found = [n for n in re.findall(r"(?<!\d)\d{6,}(?!\d)", name) if length in (None, len(n))]
    return found[0] if len(found) == 1 else None


def _named_rolls(file: Path, root: Path | None, length: int | None) -> list[NamedRoll]:
    """The rolls a file's name and its folder's give: the nearest folder below the folder
    given that names one (the folder given may be named anyhow)."""
    rolls = []
    folders = file.parent.relative_to(root).parts if root is not None else ()
    folder = next((r for part in reversed(folders) if (r := _name_roll(part, length))), None)
    if folder is not None:
        rolls.append(NamedRoll(folder, "folder", f"{file.parent.name}/"))
    named = _name_roll(file.stem, length)
    if named is not None:
        rolls.append(NamedRoll(named, "file", file.name))
    return rolls


def _document_rolls(document: Document) -> list[NamedRoll]:
    """The rolls a document's title and code give."""
    rolls = []
    for by, mention in (("title", document.title_roll), ("code", document.code_roll)):
        if mention is not None:
            rolls.append(NamedRoll(mention.text, by, mention.where))
    return rolls


def _ordered(rolls: Sequence[NamedRoll]) -> list[NamedRoll]:
    return sorted(rolls, key=lambda r: list(ROLL_SOURCES).index(r.by))


def handed_in(rolls: Sequence[NamedRoll]) -> NamedRoll:
    """Whose submission it is: the first roll in `ROLL_SOURCES`' order, except the course's
    example roll, which a copied example notebook still says, when any other is named."""
    ordered = _ordered(rolls)
    own = [r for r in ordered if r.roll != EXAMPLE_ROLL]
    return (own or ordered)[0]


def _read(file: Path) -> Document | Unreadable:
    """The document in ``file``, or why it cannot be read."""
    if file.suffix.lower() not in SUFFIXES:
        kind = FORMATS.get(file.suffix.lower(), f"a {file.suffix or 'suffixless'} file")
        return Unreadable(file, f"{kind}, which the audit cannot read")
    try:
        return read_document(file)
    except ExtractionError as err:
        return Unreadable(file, str(err).removeprefix(f"{file}: "))


def _unparsed(document: Document) -> list[str]:
    """A line for each figure of an audited document that does not parse (audited without
    it)."""
    return [
        f"{document.path.parent / u.where}: {figure_name(u.quantity)} {u.text!r} does not "
        "parse as a number; audited as not found"
        for u in document.unparsed
        if u.quantity != "roll"
    ]


def _no_roll(document: Document) -> str:
    bad = [u.text for u in document.unparsed if u.quantity == "roll"]
    found = f"roll number {bad[0]!r} is not all digits" if bad else "no roll number"
    return (
        f"{document.path}: {found} (expected e.g. ROLL_NUMBER = 102303346 or "
        "'Roll Number: 102303346'); not audited"
    )


FORMATS = {
    ".pdf": "a PDF",
    ".docx": "a Word document",
    ".doc": "a Word document",
    ".odt": "an OpenDocument text",
    ".rtf": "a rich-text file",
    ".html": "a web page",
    ".htm": "a web page",
    ".png": "an image",
    ".jpg": "an image",
    ".jpeg": "an image",
    ".zip": "an archive",
}


def _area(folder: Path, root: Path | None) -> Path:
    """Where a student's work is: the subfolder of the folder given that holds ``folder``
    (a student's own folder, its subfolders too), else ``folder`` itself."""
    if root is None or folder == root:
        return folder
    return root / folder.relative_to(root).parts[0]


def collect(
    paths: Sequence[str | Path],
) -> tuple[list[Submission], list[str], list[str]]:
    """The submissions under ``paths`` (files, or folders searched recursively), one line for
    each path or file that could not be read, and one for each figure that did not parse.

    A submission is the documents one roll is handed in as (`handed_in`) in one folder, or
    in a student's folder and its subfolders when they hold that roll only. A file the audit
    cannot read (a PDF, a Word document, a broken notebook) is one too, with the finding
    "unreadable format", when its name or folder names a roll, or it is in a student's folder
    below the folder given, that has no readable document; beside a readable one it is a
    line in the errors (a text or notebook) or left alone (an image); a file no one's name
    claims is a line in the errors."""
    errors: list[str] = []
    unparsed: list[str] = []
    read = [(file, root, _read(file)) for file, root in _files(paths, errors)]
    groups: Groups = defaultdict(list)
    found, area_rolls, length = _group_documents(read, groups, errors, unparsed)
    for file, root, unreadable in read:
        if isinstance(unreadable, Document):
            continue
        rolls = _named_rolls(file, root, length)
        roll = handed_in(rolls).roll if rolls else ""
        area = _area(file.parent, root)
        beside = roll in area_rolls[area] if roll else bool(area_rolls[area])
        if not beside and (roll or (root is not None and area != root)):
            groups[area, roll].append((unreadable, rolls))  # all that roll handed in
        elif file.suffix.lower() in SUFFIXES or root is None:  # an image beside is no matter
            errors.append(f"{file}: {unreadable.reason}")
        else:
            continue
        found.add(root)
    errors += [
        f"{path}: no submission in this folder (expected {_suffixes()})"
        for path in map(Path, paths)
        if path.is_dir() and path not in found
    ]
    return _submissions(groups), errors, unparsed


Groups = dict[tuple[Path, str], list[tuple["Document | Unreadable", list[NamedRoll]]]]


def _group_documents(
    read: list, groups: Groups, errors: list[str], unparsed: list[str]
) -> tuple[set[Path | None], dict[Path, set[str]], int | None]:
    """Each readable document into ``groups`` by whose it is and where (a student's folder
    holding one roll, else its own folder); the folders given that held one, the rolls in
    each student's folder, and the class's roll length (None when the documents disagree)."""
    documents = [(f, root, d) for f, root, d in read if isinstance(d, Document)]
    lengths = {len(r.roll) for *_, d in documents for r in _document_rolls(d)}
    length = lengths.pop() if len(lengths) == 1 else None
    found: set[Path | None] = {root for _, root, _ in documents}  # folders given with a file
    whose = []
    for file, root, document in documents:
        rolls = _named_rolls(file, root, length) + _document_rolls(document)
        if rolls:
            whose.append((file, root, document, rolls, handed_in(rolls).roll))
            unparsed += _unparsed(document)
        else:
            errors.append(_no_roll(document))
    area_rolls: dict[Path, set[str]] = defaultdict(set)  # the rolls in each student's folder
    for file, root, *_, roll in whose:
        area_rolls[_area(file.parent, root)].add(roll)
    for file, root, document, rolls, roll in whose:
        area = _area(file.parent, root)
        folder = area if len(area_rolls[area]) == 1 else file.parent
        groups[folder, roll].append((document, rolls))
    return found, area_rolls, length


def _submissions(groups: dict[tuple[Path, str], list]) -> list[Submission]:
    """A submission for each group, named by its roll (folder/roll when two folders hold one
    roll; its folder's name when no roll is known)."""
    labels = [roll or folder.name for folder, roll in groups]
    submissions = []
    for (folder, roll), items in groups.items():
        label = roll or folder.name
        name = label if labels.count(label) == 1 else f"{folder.name}/{label}"
        named = {(r.by, r.roll): r for _, rolls in items for r in rolls}
        submissions.append(
            Submission(
                name,
                roll,
                tuple(d for d, _ in items if isinstance(d, Document)),
                tuple(named.values()),
                tuple(d for d, _ in items if isinstance(d, Unreadable)),
            )
        )
    return submissions


def _suffixes() -> str:
    return ", ".join(sorted(SUFFIXES))


SUPPORTED = ".ipynb (with its outputs), a notebook exported to .txt, .md or .py"


def _roll_rows(submission: Submission) -> list[Row]:
    """A row for each roll the submission names other than the one it is handed in as:
    both rolls, where each is said, and whose submission it is."""
    # the most trusted source of the roll it is handed in as
    whose = next((r for r in _ordered(submission.rolls) if r.roll == submission.roll), None)
    rows = []
    for named in submission.rolls:
        if whose is None or named.roll == submission.roll:
            continue
        says = "runs with ROLL_NUMBER =" if named.by == "code" else "gives roll"
        source = ROLL_SOURCES[named.by].removesuffix(" ROLL_NUMBER").removesuffix("'s")
        note = f"this is roll {submission.roll}'s submission, but {source} {says} {named.roll}"
        if named.roll == EXAMPLE_ROLL:
            note += " (the course's example notebook's)"
        if named.by == "code":
            note += (
                f": its configuration and figures are roll {named.roll}'s; the rules are "
                f"checked for roll {submission.roll}"
            )
        rows.append(
            Row(
                figure_name("roll"),
                f"{named.roll} ({ROLL_SOURCES[named.by]})",
                f"{submission.roll} ({ROLL_SOURCES[whose.by]}, {whose.where})",
                "roll mismatch",
                named.where,
                note,
            )
        )
    return rows


def _unreadable_rows(submission: Submission) -> list[Row]:
    return [
        Row("document", u.path.name, SUPPORTED, "unreadable format", u.path.name,
            f"{u.reason}: nothing of it can be audited")
        for u in submission.unreadable
    ]  # fmt: skip


def _nothing_to_audit(documents: list[Document]) -> list[Row]:
    """A row when no document reports a Part A figure: nothing it ran can be checked."""
    if any(part_a_quantities(d) for d in documents):
        return []
    cleared = [d.path.name for d in documents if d.outputs_cleared]
    note = (
        f"{', '.join(cleared)}: code with not one line of output (outputs cleared), so no "
        "figure it printed is left to reproduce"
        if cleared
        else "no document of it reports a loss, a gradient norm or a GRI"
    )
    where = ", ".join(d.path.name for d in documents)
    return [
        Row("Part A figures", None, "the losses, gradient norms and GRIs of runs 1 and 2",
            "nothing to audit", where, note)
    ]  # fmt: skip


def _ran_rules(documents: list[Document], rules: LabConfig) -> LabConfig:
    """The rules of the digits the code ran with: those it sets by hand, else its
    ROLL_NUMBER's, else (no code) the roll's own. The values it states override them."""
    digits = next((d.digits for d in documents if d.digits is not None), None)
    if digits is not None:
        return lab_config(digits.roll_ending)
    code = next((d.code_roll.text for d in documents if d.code_roll is not None), None)
    try:
        return lab_config(code) if code is not None else rules
    except RollNumberError:
        return rules


def _same_network(first: dict[str, object], second: dict[str, object]) -> bool:
    return all(
        first[k] == second[k]
        if isinstance(first[k], str) or isinstance(second[k], str)
        else math.isclose(float(first[k]), float(second[k]), rel_tol=1e-9)
        for k in first
    )


def _digits_text(config: LabConfig) -> str:
    return f"a = {config.a}, b = {config.b}, c = {config.c}"


@functools.cache
def _every_digits() -> tuple[LabConfig, ...]:
    """The rules of every digits a, b, c (once a process)."""
    return tuple(lab_config(f"{k:03d}") for k in range(1000))


def _digits_giving(network: dict[str, object]) -> str:
    """Whose configuration ``network`` is, by the digits a, b, c whose rules give it."""
    configs = [c for c in _every_digits() if _same_network(network, c.network())]
    if not configs:
        return "a configuration no roll's rules give (no digits a, b, c)"
    parts = []
    for name in ("a", "b", "c"):
        values = [str(v) for v in sorted({getattr(c, name) for c in configs})]
        listed = values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]
        parts.append(f"{name} = {listed}")
    return "the configuration of digits " + ", ".join(parts)


def configuration_owner(config: LabConfig, roll: str, documents: list[Document]) -> str:
    """Whose configuration the seed search trained, when not roll ``roll``'s own ("" when
    it is): the digits the code sets by hand, its ROLL_NUMBER's, else the digits that give
    it. A roll of the class that has it is named by the class audit."""
    trained, rules = config.network(), lab_config(roll)
    if _same_network(trained, rules.network()):
        return ""
    own = f"not roll {roll}'s ({_digits_text(rules)})"
    digits = next((d.digits for d in documents if d.digits is not None), None)
    typed = lab_config(digits.roll_ending) if digits is not None else None
    if typed is not None and _same_network(trained, typed.network()):
        return (
            f"the configuration of digits {_digits_text(typed)}, which its code sets by hand "
            f"({digits.where}: {digits.line_text}), {own}"
        )
    code = next((d.code_roll.text for d in documents if d.code_roll is not None), None)
    if code not in (None, roll) and _same_network(trained, lab_config(code).network()):
        return f"the configuration of roll {code} (its code's ROLL_NUMBER), {own}"
    return f"{_digits_giving(trained)}, {own}"


def audit_submission(
    submission: Submission, seed_range: tuple[int, int] = NOTEBOOK_SEEDS
) -> SubmissionAudit:
    """What was handed in (its rolls, whether it can be read and holds anything to check),
    rules, the seed search of each document, and consistency, for one submission."""
    handed = _roll_rows(submission)
    if not submission.documents:
        paths = tuple(u.path for u in submission.unreadable)
        return SubmissionAudit(submission.name, submission.roll, paths, {}, (), (), (),
                               handed_in=tuple(handed + _unreadable_rows(submission)))  # fmt: skip
    documents = list(submission.documents)
    try:
        rules_config = lab_config(submission.roll)
    except RollNumberError as err:
        rules_config = None
        rules = [Row("roll number", submission.roll, None, "wrong", note=str(err))]
    else:
        rules = check_rules(documents, rules_config)
    reproduction, configuration, owner = [], {}, ""
    if rules_config is not None:
        reproduction, configuration, owner = _search(submission, rules_config, seed_range)
    by_path = {result.path: result for result in reproduction}
    consistency = [
        row for d in documents for row in check_consistency(placed(d, by_path.get(d.path)))
    ]
    return SubmissionAudit(
        submission.name,
        submission.roll,
        tuple(d.path for d in documents),
        configuration,
        tuple(rules),
        tuple(reproduction),
        tuple(consistency),
        {m.quantity: m.text for d in documents for m in reported(d)},
        handed_in=tuple(handed + _nothing_to_audit(documents)),
        configuration_owner=owner,
    )


def _search(
    submission: Submission, rules_config: LabConfig, seed_range: tuple[int, int]
) -> tuple[list[DocumentSeed], dict[str, float | int | str], str]:
    """The seed search of each document, with the configuration the documents ran (and whose
    it is, when not the roll's own); a configuration no network trains with is not searched."""
    documents = list(submission.documents)
    try:
        config = trained_configuration(documents, _ran_rules(documents, rules_config))
    except ConfigurationError as err:
        reason = f"cannot train: {err}"
        return (
            [DocumentSeed(d.path, None, "not searched", reason) for d in documents if reported(d)],
            {},
            "",
        )
    owner = configuration_owner(config, submission.roll, documents)
    losses = EpochOneLosses(range(seed_range[0], seed_range[1] + 1))
    searched = (search_seed(document, config, losses) for document in documents)
    return [r for r in searched if r is not None], config.network(), owner


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


def audit_paths(
    paths: Sequence[str | Path],
    seed_range: tuple[int, int] = NOTEBOOK_SEEDS,
    workers: int | None = None,
    progress: bool = False,
) -> ClassAudit:
    """Audit every submission under ``paths``: one alone here, a class on a process pool with
    a progress bar (the sweeps' own, `sweep.run_many`)."""
    submissions, errors, unparsed = collect(paths)
    audit = partial(audit_submission, seed_range=seed_range)
    if len(submissions) > 1:
        from tinygrad_lab.lab.pool import run_many

        audits = run_many(submissions, workers=workers, progress=progress, fn=audit)
    else:
        audits = [audit(s) for s in submissions]
    problems = [ReadError(e) for e in errors] + [ReadError(u, "figure") for u in unparsed]
    return ClassAudit(tuple(class_findings(audits, submissions)), tuple(problems), seed_range)
