"""Which files make a submission: every file under the paths given, read, grouped by roll and
folder into `Submission`s, each with the roll it was handed in as (`handed_in`)."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tinygrad_lab.lab.audit.extract import (
    SUFFIXES,
    Document,
    ExtractionError,
    read_document,
)
from tinygrad_lab.lab.audit.result import (
    figure_name,
)
from tinygrad_lab.lab.rules import (
    EXAMPLE_ROLL,
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


def by_source(rolls: Sequence[NamedRoll]) -> list[NamedRoll]:
    return sorted(rolls, key=lambda r: list(ROLL_SOURCES).index(r.by))


def handed_in(rolls: Sequence[NamedRoll]) -> NamedRoll:
    """Whose submission it is: the first roll in `ROLL_SOURCES`' order, except the course's
    example roll, which a copied example notebook still says, when any other is named."""
    ordered = by_source(rolls)
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
