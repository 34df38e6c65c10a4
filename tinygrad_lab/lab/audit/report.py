"""An audit written out: per submission ``audit.md`` (one table per section), for the class
``audit.csv`` and ``audit.md`` (counts, the verdicts, then one row a submission, most urgent
verdict first, with the roster's columns), for the students ``grades.csv`` and feedback files
(`audit.feedback`), the class plot's data and plot, the terminal's summary, and the JSON. Files
go through `OutputFiles` (all or nothing)."""

from __future__ import annotations

import csv
import io
import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tinygrad_lab.display import markdown_table
from tinygrad_lab.lab.audit.result import (
    ClassAudit,
    DocumentSeed,
    Row,
    SubmissionAudit,
    figure_name,
)
from tinygrad_lab.lab.audit.rules_check import PART_B
from tinygrad_lab.lab.audit.students import Entry, Gradebook, gradebook
from tinygrad_lab.lab.audit.verdict import VERDICTS
from tinygrad_lab.lab.output.files import OutputFiles

if TYPE_CHECKING:
    from tinygrad_lab.lab.audit.plots import ClassGRI

PART_B_NAMES = {figure_name(q) for q in PART_B}
COLUMNS = ["figure", "reported", "expected", "verdict", "where"]
SECTION_TITLES = {
    "submission": "Submission: what was handed in",
    "rules": "Rules: the configuration and Part B against the roll's rules",
    "reproduction": "Reproduction: Part A against the seed that reproduces it",
    "consistency": "Consistency: what the text asserts",
}


def _cells(row: Row) -> list[str]:
    verdict = f"**{row.verdict}**" if row.finding else row.verdict
    expected = row.expected or "—"
    if row.note:
        expected += f" ({row.note})"
    return [row.figure, row.reported or "not found", expected, verdict, row.where]


def seeds_line(audit: SubmissionAudit) -> str:
    """Which seed each document's figures come from, and whether they are one run."""
    found = [d for d in audit.reproduction if d.seed is not None]
    if any(row.verdict == "unreadable format" for row in audit.handed_in):
        return "no document could be read"
    if not audit.reproduction:
        return "no document reports Part A figures"
    parts = [
        f"{d.path.name}: {'seed ' + str(d.seed) if d.seed is not None else d.outcome}"
        for d in audit.reproduction
    ]
    text = "; ".join(parts)
    if len({d.seed for d in found}) > 1:
        text += " — the documents come from different runs"
    return text


def rule_mismatches(audit: SubmissionAudit) -> list[Row]:
    return [r for r in audit.rules if r.finding and r.figure not in PART_B_NAMES]


def part_b_errors(audit: SubmissionAudit) -> list[Row]:
    return [r for r in audit.rules if r.finding and r.figure in PART_B_NAMES]


def _reproduced(audit: SubmissionAudit) -> str:
    rows = audit.sections()["reproduction"]
    return f"{sum(r.verdict == 'reproduced' for r in rows)}/{len(rows)}"


def _document_section(document: DocumentSeed) -> list[str]:
    lines = [f"### {document.path.name}", "", f"{document.explanation}.", ""]
    if document.rows:
        lines += [markdown_table(COLUMNS, [_cells(r) for r in document.rows]), ""]
    return lines


def _entry_lines(entry: Entry | None) -> list[str]:
    """A submission's verdict and roster row, when the class's were worked out."""
    if entry is None:
        return []
    lines = [f"**Verdict**: {entry.verdict.name} (priority {entry.verdict.priority}).", ""]
    if entry.roster_row is not None and entry.roster_row.fields:
        cells = ", ".join(f"{k} {v}" for k, v in entry.roster_row.fields.items() if v)
        lines += [f"**Roster** (row {entry.roster_row.row}): {cells or 'no other column'}.", ""]
    notes = [f"- **{r.source}**: {r.text}" for r in entry.reasons if r.source != "finding"]
    return lines + notes + ([""] if notes else [])


def submission_markdown(audit: SubmissionAudit, entry: Entry | None = None) -> str:
    """One submission's audit: its verdict, seeds and findings, then a table per section."""
    findings = audit.findings
    lines = [
        f"# Audit of {audit.name} (roll {audit.roll or 'not given'})",
        "",
        f"Documents: {', '.join(p.name for p in audit.documents)}.",
        "",
        *_entry_lines(entry),
        f"**Seeds**: {seeds_line(audit)}.",
        "",
        f"**Findings**: {audit.finding_count or 'none'}.",
        "",
    ]
    lines += [f"- **class**: {note}" for note in audit.class_findings]
    lines += [f"- **{r.verdict}**: {_sentence(r)}" for r in findings]
    lines += [f"- class note (no finding): {note}" for note in audit.class_notes]
    lines += [""] if findings or audit.class_findings or audit.class_notes else []
    if audit.configuration:
        trained = ", ".join(f"{figure_name(k)} {v}" for k, v in audit.configuration.items())
        whose = f"; it is {audit.configuration_owner}" if audit.configuration_owner else ""
        lines += [f"The seed search trained the configuration the documents ran: {trained}"
                  f"{whose}.", ""]  # fmt: skip
    if audit.handed_in:
        title = SECTION_TITLES["submission"]
        lines += [f"## {title}", "", markdown_table(COLUMNS, map(_cells, audit.handed_in)), ""]
    lines += [
        f"## {SECTION_TITLES['rules']}",
        "",
        markdown_table(COLUMNS, [_cells(r) for r in audit.rules]),
        "",
    ]
    lines += [f"## {SECTION_TITLES['reproduction']}", ""]
    for document in audit.reproduction:
        lines += _document_section(document)
    if not audit.reproduction:
        lines += ["No document reports Part A figures.", ""]
    lines += [f"## {SECTION_TITLES['consistency']}", ""]
    consistency = [_cells(r) for r in audit.consistency]
    lines += [markdown_table(COLUMNS, consistency) if consistency else "Nothing to check.", ""]
    return "\n".join(lines)


AGAINST = {"not reproduced": "the seed gives", "inconsistent": "against", "contradicted": "but"}


def _sentence(row: Row) -> str:
    against = AGAINST.get(row.verdict, "expected")
    expected = f", {against} {row.expected}" if row.expected else ""
    note = f": {row.note}" if row.note else ""
    return f"{row.figure} {row.reported or 'not found'}{expected} ({row.where}){note}"


CSV_COLUMNS = ["documents", "rule_mismatches", "part_b_errors", "seeds", "part_a_reproduced",
               "findings", "class_findings", "reasons"]  # fmt: skip


def _submission_cells(s: SubmissionAudit | None) -> list[object]:
    """audit.csv's cells of a submission (empty for a student who handed in none)."""
    if s is None:
        return [""] * (len(CSV_COLUMNS) - 1)
    return [
        ";".join(p.name for p in s.documents),
        len(rule_mismatches(s)),
        len(part_b_errors(s)),
        ";".join("none" if seed is None else str(seed) for seed in s.seeds) or "none",
        _reproduced(s),
        s.finding_count,
        " | ".join(s.class_findings),
    ]


def _book(audit: ClassAudit, book: Gradebook | None) -> Gradebook:
    return book if book is not None else gradebook(audit)


def _roster_columns(book: Gradebook, own: list[str]) -> list[str]:
    return book.roster.header(own) if book.roster is not None else []


def _roster_cells(book: Gradebook, roll: str) -> list[str]:
    return book.roster.cells(roll) if book.roster is not None else []


def class_csv(audit: ClassAudit, book: Gradebook | None = None) -> str:
    """One row a submission, and one a roster student who handed in none, most urgent verdict
    first: priority, verdict, name, roll, the roster's other columns, rule mismatches, Part B
    errors, seeds, Part A reproduced, findings, and the verdict's reasons."""
    book = _book(audit, book)
    own = ["priority", "verdict", "name", "roll"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([*own, *_roster_columns(book, own + CSV_COLUMNS), *CSV_COLUMNS])
    for entry in book.entries:
        s = entry.submission
        writer.writerow(
            [
                entry.verdict.priority,
                entry.verdict.name,
                s.name if s is not None else "",
                s.roll if s is not None else entry.roll,
                *_roster_cells(book, entry.roll),
                *_submission_cells(s),
                " | ".join(reason.text for reason in entry.reasons),
            ]
        )
    return text.getvalue()


def _counts(audit: ClassAudit) -> list[tuple[str, int]]:
    subs, (low, high) = audit.submissions, audit.seed_range
    return [
        ("submissions", len(subs)),
        ("clean (no finding, every document reproduced)", sum(s.clean for s in subs)),
        ("with a rule mismatch", sum(bool(rule_mismatches(s)) for s in subs)),
        ("with a Part B error", sum(bool(part_b_errors(s)) for s in subs)),
        (f"reproduced by a seed in {low}–{high}",
         sum(s.reproduced and bool(s.reproduction) for s in subs)),
        ("not reproduced", sum(not s.reproduced for s in subs)),
        ("flagged by the class (shared figures, another roll's configuration)",
         sum(bool(s.class_findings) for s in subs)),
        ("with a finding about what was handed in (unreadable, nothing to audit, its roll)",
         sum(any(r.finding for r in s.handed_in) for s in subs)),
        ("files that could not be read", len(audit.not_read)),
        ("figures that did not parse (their files audited without them)", len(audit.unparsed)),
    ]  # fmt: skip


CLASS_COLUMNS = ["rule mismatches", "Part B errors", "seeds", "Part A reproduced",
                 "findings"]  # fmt: skip


def _verdict_table(book: Gradebook) -> str:
    """The verdicts (`verdict.VERDICTS`, the one table), what each means, and how many."""
    counts = [sum(e.verdict is v for e in book.entries) for v in VERDICTS]
    rows = [[v.priority, v.name, n, v.means] for v, n in zip(VERDICTS, counts, strict=True)]
    return markdown_table(["priority", "verdict", "count", "means"], rows)


def _roster_section(book: Gradebook) -> list[str]:
    roster = book.roster
    if roster is None:
        return []
    column = f"roll numbers in column {roster.roll_column!r}"
    lines = [f"## Roster: {roster.path.name}", "", f"{len(roster)} students ({column})."]
    lines += [f"- skipped: {line}" for line in roster.skipped]
    lines += [
        f"- roll {roll} is on it {len(rows)} times (rows {', '.join(map(str, rows))})"
        for roll, rows in roster.repeated.items()
    ]
    not_on = [e.submission.name for e in book.entries if e.submission and e.roll not in roster]
    if not_on:
        lines.append(f"- not on the roster: {', '.join(not_on)}")
    return [*lines, ""]


def class_markdown(audit: ClassAudit, book: Gradebook | None = None) -> str:
    """The class: counts, the verdicts, then one row a submission (and a roster student with
    none) most urgent first, then what could not be read, and the roster's notes."""
    book = _book(audit, book)
    own = ["priority", "verdict", "submission", "roll"]
    header = [*own, *_roster_columns(book, own + CLASS_COLUMNS), *CLASS_COLUMNS]
    rows = []
    for entry in book.entries:
        s = entry.submission
        cells = (
            [len(rule_mismatches(s)), len(part_b_errors(s)), seeds_line(s), _reproduced(s),
             s.finding_count]
            if s is not None
            else ["—", "—", "—", "—", "—"]
        )  # fmt: skip
        name = s.name if s is not None else "—"
        rows.append([entry.verdict.priority, entry.verdict.name, name,
                     s.roll if s is not None else entry.roll,
                     *_roster_cells(book, entry.roll), *cells])  # fmt: skip
    lines = ["# Audit of the class", "", markdown_table(["", "count"], _counts(audit)), ""]
    lines += ["## Verdicts", "", _verdict_table(book), ""]
    lines += [markdown_table(header, rows), ""]
    flagged = [f"- {s.name}: {note}" for s in audit.submissions for note in s.class_findings]
    if flagged:
        lines += ["## Flagged by the class", "", *flagged, ""]
    missing = [
        f"- {e.roll}" + (f" ({book.name(e.roll)})" if book.name(e.roll) else "")
        + f": {e.reasons[0].text}"
        for e in book.entries
        if e.submission is None
    ]  # fmt: skip
    if missing:
        lines += ["## Handed in nothing the audit can read", "", *missing, ""]
    if audit.not_read:
        lines += ["## Not read", "", *(f"- {e}" for e in audit.not_read), ""]
    if audit.unparsed:
        lines += ["## Figures that did not parse", "", *(f"- {e}" for e in audit.unparsed), ""]
    lines += _roster_section(book)
    return "\n".join(lines)


def summary(audit: ClassAudit, book: Gradebook | None = None) -> str:
    """What the terminal prints: each submission's seeds and findings, one line each; with a
    roster, what it says of each, then who handed in nothing the audit can read."""
    roster = book.roster if book is not None else None
    entries = {id(e.submission): e for e in book.entries} if book is not None else {}
    lines = []
    for s in audit.submissions:
        lines.append(f"{s.name}: {seeds_line(s)}")
        for document in s.reproduction:
            lines.append(f"  {document.path.name}: {document.explanation}")
        lines += [f"  class: {note}" for note in s.class_findings]
        lines += [f"  class note (no finding): {note}" for note in s.class_notes]
        lines += [f"  {r.verdict}: {_sentence(r)}" for r in s.findings]
        entry = entries.get(id(s))
        if entry is not None:
            lines += [f"  {r.source}: {r.text}" for r in entry.reasons if r.source != "finding"]
        if s.clean and (entry is None or entry.verdict.name == "clean"):
            lines.append("  no findings")
    if roster is not None:
        for e in book.entries:
            if e.submission is None:
                name = f" ({roster.name(e.roll)})" if roster.name(e.roll) else ""
                lines.append(f"{e.roll}{name}: {e.verdict.name}: {e.reasons[0].text}")
    return "\n".join(lines)


def write_audit(
    audit: ClassAudit,
    out: Path,
    book: Gradebook | None = None,
    spread: ClassGRI | None = None,
    plot: bool = False,
) -> list[Path]:
    """``out/audit.md`` and ``out/audit.csv`` for the class, ``out/<name>/audit.md`` for each
    submission, ``out/grades.csv`` and ``out/feedback/<roll>.md`` for the students, and with
    ``spread`` the class plot's data ``out/gri_spread.csv`` (and, with ``plot``, the plot
    ``out/class_gri.png``); all written or none."""
    from tinygrad_lab.lab.audit.feedback import feedback_files, grades_csv

    book = _book(audit, book)
    entries = {id(e.submission): e for e in book.entries}
    with OutputFiles() as files:
        files.write(out / "audit.md", class_markdown(audit, book) + "\n")
        files.write(out / "audit.csv", class_csv(audit, book))
        for s in audit.submissions:
            files.write(out / s.name / "audit.md", submission_markdown(s, entries[id(s)]) + "\n")
        files.write(out / "grades.csv", grades_csv(book))
        for roll, text in feedback_files(book).items():
            files.write(out / "feedback" / f"{roll}.md", text)
        if spread is not None:
            files.write(out / "gri_spread.csv", spread.to_csv())
            if plot:
                from tinygrad_lab.lab.audit.plots import plot_class_gri

                handed = [e for e in book.entries if e.submission is not None]
                clean = {e.submission.name for e in handed if e.verdict.name == "clean"}
                labels = {e.submission.name: f"{e.submission.name} {book.name(e.roll)}".strip()
                          for e in handed}  # fmt: skip
                draw = partial(plot_class_gri, spread, clean=clean, labels=labels)
                files.write(out / "class_gri.png", draw)
    return files.written


def audit_json(audit: ClassAudit, book: Gradebook | None = None) -> str:
    """The whole audit; with its gradebook, each entry's verdict and reasons (``verdicts``),
    and the roster's notes (``roster``) when there was one."""
    document = audit.to_json()
    if book is not None:
        document["verdicts"] = book.to_json()
        if book.roster is not None:
            roster = book.roster
            document["roster"] = {
                "path": str(roster.path),
                "roll_column": roster.roll_column,
                "columns": list(roster.columns),
                "students": len(roster),
                "skipped": list(roster.skipped),
                "repeated": {roll: list(rows) for roll, rows in roster.repeated.items()},
            }
    return json.dumps(document, indent=1, allow_nan=False)
