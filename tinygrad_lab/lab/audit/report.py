"""An audit written out: per submission ``audit.md`` (one table per section), for the class
``audit.csv`` (one row a student) and ``audit.md`` (counts, then the table), the terminal's
summary, and the JSON. Files go through `OutputFiles` (all or nothing)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tinygrad_lab.display import markdown_table
from tinygrad_lab.lab.audit.result import (
    ClassAudit,
    DocumentSeed,
    Row,
    SubmissionAudit,
    figure_name,
)
from tinygrad_lab.lab.audit.rules_check import PART_B
from tinygrad_lab.lab.files import OutputFiles

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


def submission_markdown(audit: SubmissionAudit) -> str:
    """One submission's audit: its seeds and findings, then a table per section."""
    findings = audit.findings
    lines = [
        f"# Audit of {audit.name} (roll {audit.roll or 'not given'})",
        "",
        f"Documents: {', '.join(p.name for p in audit.documents)}.",
        "",
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


def class_csv(audit: ClassAudit) -> str:
    """One row a submission: roll, rule mismatches, Part B errors, seeds, Part A reproduced."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        [
            "name",
            "roll",
            "documents",
            "rule_mismatches",
            "part_b_errors",
            "seeds",
            "part_a_reproduced",
            "findings",
            "class_findings",
        ]
    )
    for s in audit.submissions:
        writer.writerow(
            [
                s.name,
                s.roll,
                ";".join(p.name for p in s.documents),
                len(rule_mismatches(s)),
                len(part_b_errors(s)),
                ";".join("none" if seed is None else str(seed) for seed in s.seeds) or "none",
                _reproduced(s),
                s.finding_count,
                " | ".join(s.class_findings),
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


CLASS_COLUMNS = ["submission", "roll", "rule mismatches", "Part B errors", "seeds",
                 "Part A reproduced", "findings"]  # fmt: skip


def class_markdown(audit: ClassAudit) -> str:
    """The class: counts, then one row a submission, then what could not be read."""
    rows = [
        [s.name, s.roll, len(rule_mismatches(s)), len(part_b_errors(s)), seeds_line(s),
         _reproduced(s), s.finding_count]
        for s in audit.submissions
    ]  # fmt: skip
    lines = ["# Audit of the class", "", markdown_table(["", "count"], _counts(audit)), ""]
    lines += [markdown_table(CLASS_COLUMNS, rows), ""]
    flagged = [f"- {s.name}: {note}" for s in audit.submissions for note in s.class_findings]
    if flagged:
        lines += ["## Flagged by the class", "", *flagged, ""]
    if audit.not_read:
        lines += ["## Not read", "", *(f"- {e}" for e in audit.not_read), ""]
    if audit.unparsed:
        lines += ["## Figures that did not parse", "", *(f"- {e}" for e in audit.unparsed), ""]
    return "\n".join(lines)


def summary(audit: ClassAudit) -> str:
    """What the terminal prints: each submission's seeds and findings, one line each."""
    lines = []
    for s in audit.submissions:
        lines.append(f"{s.name}: {seeds_line(s)}")
        for document in s.reproduction:
            lines.append(f"  {document.path.name}: {document.explanation}")
        lines += [f"  class: {note}" for note in s.class_findings]
        lines += [f"  class note (no finding): {note}" for note in s.class_notes]
        lines += [f"  {r.verdict}: {_sentence(r)}" for r in s.findings]
        if s.clean:
            lines.append("  no findings")
    return "\n".join(lines)


def write_audit(audit: ClassAudit, out: Path) -> list[Path]:
    """``out/audit.md`` and ``out/audit.csv`` for the class, ``out/<name>/audit.md`` for each
    submission, all written or none."""
    with OutputFiles() as files:
        files.write(out / "audit.md", class_markdown(audit) + "\n")
        files.write(out / "audit.csv", class_csv(audit))
        for s in audit.submissions:
            files.write(out / s.name / "audit.md", submission_markdown(s) + "\n")
    return files.written


def audit_json(audit: ClassAudit) -> str:
    return json.dumps(audit.to_json(), indent=1, allow_nan=False)
