"""A class roster as instructors keep it: a CSV, tab- or semicolon-separated file, or an
``.xlsx`` workbook, one student a row, the roll numbers in a column of their own and the other
columns (name, email, ...) kept beside them for every output.

- **The roll column** is the one named by ``roll_column`` (its header, case-insensitive, or its
  number counting from 1); else the first header cell such as ``roll``, ``Roll No.``,
  ``roll_number`` (`ROLL_HEADER`); else the first column.
- **Row 1 is a header** when it names the roll column, or, without such a name, when its roll
  cell holds no digit: a first row such as ``1023O3888`` or ``12`` is a bad row, not a header.
- **The separator** is whichever of tab, semicolon and comma splits the most rows (a tie goes to
  tab, then semicolon, then comma: a semicolon file's decimal commas split rows too).
- **A bad row** (its roll cell empty or not a roll number) is skipped with one `RosterWarning`
  naming the file, the row, what is wrong and what was expected; all are reported, and only a
  roster with no good row is an error (`SweepError`). A roll on two rows counts once, from its
  first row, with one `DuplicateWarning`, and the roster keeps every row it was on.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tinygrad_lab.lab.pool import DuplicateWarning, SweepError
from tinygrad_lab.lab.rules import ROLL_RULE, RollNumberError, parse_roll

SEPARATORS = ("\t", ";", ",")  # in the order a tie is decided
SEPARATOR_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}
ROLL_HEADER = re.compile(r"roll[\s_.\-]*(?:number|num|no)?[\s.:#]*", re.IGNORECASE)
NAME_HEADER = re.compile(r"(?:student[\s_]*)?(?:full[\s_]*)?name", re.IGNORECASE)
FIRST_NAME = re.compile(r"(?:first|given)[\s_]*name", re.IGNORECASE)
LAST_NAME = re.compile(r"(?:last|family|sur)[\s_]*name", re.IGNORECASE)
XLSX_HINT = "pip install 'tinygrad_lab[lab]' (or save the roster as CSV)"


class RosterWarning(UserWarning):
    """A roster row that is skipped: what is wrong with it, and what was expected."""


@dataclass(frozen=True)
class RosterRow:
    """A student: their roll number, the row it is on (numbered as a spreadsheet numbers its
    rows, from 1), and the roster's other columns, by column name."""

    roll: str
    row: int
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Roster:
    """A roster read (`Roster.read`): its good rows, each roll once in file order, the other
    columns' names, what was skipped and which rolls were repeated."""

    path: Path
    rows: tuple[RosterRow, ...]
    columns: tuple[str, ...] = ()  # the other columns, in file order
    roll_column: str = "column 1"
    skipped: tuple[str, ...] = ()  # one line a bad row
    repeated: dict[str, tuple[int, ...]] = field(default_factory=dict)  # roll -> all its rows
    _index: dict[str, RosterRow] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {row.roll: row for row in self.rows})

    @property
    def rolls(self) -> list[str]:
        return [row.roll for row in self.rows]

    def __iter__(self) -> Iterator[RosterRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, roll: object) -> bool:
        return roll in self._index

    def get(self, roll: str) -> RosterRow | None:
        return self._index.get(roll)

    def cells(self, roll: str) -> list[str]:
        """The other columns' cells of ``roll``'s row, in column order (empty ones for a roll
        not on the roster): what a CSV or table puts beside the roll."""
        row = self.get(roll)
        return [row.fields.get(c, "") if row else "" for c in self.columns]

    def header(self, taken: Iterable[str] = ()) -> list[str]:
        """The other columns' names for an output whose own columns are ``taken``: a name an
        output already uses (say ``name``) is given as ``roster name``."""
        own = {name.casefold() for name in taken}
        return [f"roster {c}" if c.casefold() in own else c for c in self.columns]

    def name(self, roll: str) -> str:
        """The student's name: a column called name (``Name``, ``Student Name``, ``full_name``),
        else first and last name joined; "" when the roster has neither or the roll is not on
        it."""
        row = self.get(roll)
        if row is None:
            return ""
        named = [c for c in self.columns if NAME_HEADER.fullmatch(c.strip())]
        if named:
            return row.fields[named[0]]
        parts = [
            row.fields[c]
            for pattern in (FIRST_NAME, LAST_NAME)
            for c in self.columns
            if pattern.fullmatch(c.strip())
        ]
        return " ".join(p for p in parts if p)

    def to_json(self, roll: str) -> dict[str, str]:
        """``roll``'s other columns, by name (empty for a roll not on the roster)."""
        return dict(zip(self.columns, self.cells(roll), strict=True))

    @classmethod
    def read(
        cls, path: str | Path, roll_column: str | None = None, repeat: str = "it runs once"
    ) -> Roster:
        """The roster in ``path`` (see the module's docstring). Each bad row is a
        `RosterWarning`, each repeated roll a `DuplicateWarning` ending in ``repeat`` (what
        the command does about it); an unreadable file, a ``roll_column`` that is not there,
        or no good row is a `SweepError`."""
        path = Path(path)
        rows = [(n, cells) for n, cells in _rows(path) if any(cells)]
        if not rows:
            raise SweepError(f"roster {path} holds no roll number")
        column, header = _roll_column(path, rows[0][1], roll_column)
        names = _column_names(rows, column, header)
        roll_name = rows[0][1][column] if header else f"column {column + 1}"
        good: dict[str, RosterRow] = {}
        every: dict[str, list[int]] = {}
        skipped = []
        for number, cells in rows[1:] if header else rows:
            roll = _roll(cells[column] if column < len(cells) else "", roll_name)
            if not isinstance(roll, str):
                skipped.append(f"{path}, row {number}: {roll}; skipped")
                warnings.warn(RosterWarning(skipped[-1]), stacklevel=2)
                continue
            every.setdefault(roll, []).append(number)
            if roll in good:
                first = good[roll].row
                message = f"{path}, row {number}: roll {roll} repeats row {first}; {repeat}"
                warnings.warn(DuplicateWarning(message), stacklevel=2)
                continue
            fields = {name: cells[k] if k < len(cells) else "" for k, name in names.items()}
            good[roll] = RosterRow(roll, number, fields)
        if not good:
            hint = _hint(header, roll_column, roll_name)
            raise SweepError(f"roster {path} holds no roll number{hint}")
        repeated = {roll: tuple(rows) for roll, rows in every.items() if len(rows) > 1}
        return cls(path, tuple(good.values()), tuple(names.values()), roll_name,
                   tuple(skipped), repeated)  # fmt: skip


def _roll(cell: str, column: str) -> str | RollNumberError:
    """The roll number in ``cell``, or the error saying what is wrong with it."""
    if not cell:
        return RollNumberError(f"no roll number in column {column!r}: {ROLL_RULE}")
    try:
        return parse_roll(cell)
    except RollNumberError as err:
        return err


def _hint(header: bool, named: str | None, roll_name: str) -> str:
    """For a roster with no good row whose first column, read for lack of a roll header, has
    a header of another name: where else the rolls may be."""
    if header and named is None and not ROLL_HEADER.fullmatch(roll_name):
        return (
            f"; its roll numbers are read from column 1 ({roll_name!r}): name their column "
            "with --roll-column"
        )
    return ""


@contextmanager
def notes_on_stderr() -> Iterator[None]:
    """The command line's lines for a roster's and a seed range's warnings: a repeated roll or
    seed is one ``note:`` line on stderr, a skipped roster row one ``warning:`` line. They are
    printed even when the block then fails (a roster with no good row: its rows' lines, then
    the error); other warnings go on as they were."""
    kinds = {DuplicateWarning: "note", RosterWarning: "warning"}
    try:
        with warnings.catch_warnings(record=True) as caught:
            for kind in kinds:
                warnings.simplefilter("always", kind)
            yield
    finally:
        for warning in caught:
            kind = next((k for k in kinds if issubclass(warning.category, k)), None)
            if kind is not None:
                print(f"tinygrad-lab: {kinds[kind]}: {warning.message}", file=sys.stderr)
            else:  # not ours to turn into a note
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """Every row of the file as (its number from 1, its cells stripped)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if path.suffix.lower() in (".xls", ".ods", ".numbers"):
        raise SweepError(
            f"cannot read roster {path}: expected a CSV, tab- or semicolon-separated file or "
            f"an .xlsx workbook; save it as one of those"
        )
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SweepError(f"cannot read roster {path}: {err.strerror or err}") from None
    if b"\0" in data:
        raise SweepError(
            f"cannot read roster {path}: it is not text (expected a CSV, tab- or "
            "semicolon-separated file, or an .xlsx workbook named .xlsx)"
        )
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's plain "CSV" on Windows
    separator = _separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows = []
    for cells in reader:
        rows.append((reader.line_num, [c.strip() for c in cells]))
    return rows


def _separator(text: str) -> str:
    """The separator that splits the most rows (ties: `SEPARATORS`' order)."""

    def splits(separator: str) -> int:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
        return sum(len(cells) > 1 for cells in reader)

    counts = {separator: splits(separator) for separator in SEPARATORS}
    return max(SEPARATORS, key=lambda s: counts[s])  # max keeps the first of a tie


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The first worksheet's rows, through openpyxl; a whole number stored as a number (a roll
    typed into a cell) reads as its digits, not as 102303346.0."""
    try:
        import openpyxl
    except ImportError:
        raise SweepError(f"reading the .xlsx roster {path} needs openpyxl: {XLSX_HINT}") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError as err:
        raise SweepError(f"cannot read roster {path}: {err.strerror or err}") from None
    except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
        raise SweepError(f"cannot read roster {path} as an .xlsx workbook: {err}") from None
    try:
        sheet = book.worksheets[0]
        return [
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
        ]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _roll_column(path: Path, first: list[str], named: str | None) -> tuple[int, bool]:
    """The roll column's index, and whether row 1 is a header."""
    if named is not None:
        wanted = " ".join(named.split()).casefold()
        for k, cell in enumerate(first):
            if " ".join(cell.split()).casefold() == wanted:
                return k, True
        if named.strip().isdigit() and int(named) >= 1:
            k = int(named) - 1
            return k, k < len(first) and not any(ch.isdigit() for ch in first[k])
        columns = ", ".join(repr(c) for c in first if c) or "none"
        raise SweepError(
            f"roster {path} has no column {named!r} in row 1 (its cells: {columns}); expected "
            "--roll-column to name one of them, or give a column number counting from 1"
        )
    for k, cell in enumerate(first):
        if ROLL_HEADER.fullmatch(cell):
            return k, True
    return 0, bool(first) and not any(ch.isdigit() for ch in first[0])


def _column_names(rows: list[tuple[int, list[str]]], column: int, header: bool) -> dict[int, str]:
    """The other columns' names by index: the header's cell (or ``column k`` for a blank or
    repeated one, and for every column of a roster without a header)."""
    width = max(len(cells) for _, cells in rows)
    first = rows[0][1] if header else []
    names: dict[int, str] = {}
    for k in range(width):
        if k == column:
            continue
        name = first[k] if k < len(first) and first[k] else f"column {k + 1}"
        if name.casefold() in {n.casefold() for n in names.values()}:
            name = f"{name} (column {k + 1})"
        names[k] = name
    return names
