"""The audit's outputs as an instructor uses them, on a class the tests make (the course
notebook's own code, tests/support/audit_submissions.py) with a roster: verdicts in priority order,
who handed in nothing, grades.csv for an LMS, feedback files that name no other student, and
the class plot of submitted GRI against each roll's spread over seeds."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from audit_submissions import as_markdown, as_text, cells, figures, write

from tinygrad_lab.lab.audit.plots import class_gri, spread_seeds
from tinygrad_lab.lab.audit.result import DocumentSeed, Row, SubmissionAudit
from tinygrad_lab.lab.audit.run import audit_paths
from tinygrad_lab.lab.audit.students import gradebook
from tinygrad_lab.lab.audit.verdict import (
    CHECK_BY_HAND,
    CLEAN,
    COPIED,
    NOT_REPRODUCED,
    NOTHING,
    VERDICTS,
    WRONG,
    Anonymiser,
    reasons,
)
from tinygrad_lab.lab.audit.verdict import verdict as most_urgent
from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.roster import Roster

SEEDS = "0-5"
A, B, C, G, H = "102303346", "102300125", "102301157", "102302268", "102304479"
D, E, F, K = "102305580", "102306691", "102307702", "102308813"
NAMES = {A: "Asha Rao", B: "Bilal Khan", C: "Chen Wei", G: "Gita Das", H: "Hari Om",
         D: "Dara Singh", E: "Esha Gupta", K: "Kiran Bedi"}  # fmt: skip
EXPECTED = {
    A: CLEAN,  # the original of C's copy: told, not flagged
    B: CHECK_BY_HAND,  # honest, but on the roster twice
    C: COPIED,  # A's configuration and seed under C's roll
    G: NOT_REPRODUCED,  # run 1's GRI edited
    H: WRONG,  # a learning rate that is not the rule's
    D: NOTHING,
    K: COPIED,  # A's notebook under K's name: A's figures, and its text gives A's roll
    E: CHECK_BY_HAND,  # only a PDF
    F: CHECK_BY_HAND,  # not on the roster
}


@pytest.fixture(scope="module")
def handed_in(tmp_path_factory):
    """The class's folder and roster."""
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    write(subs / A, "lab.txt", as_text(cells(A, 3)))
    write(subs / B, "README.md", as_markdown(B, 1))
    write(subs / C, "lab.txt", as_text(cells(C, 3, config_roll=A)))
    write(subs / G, "lab.txt", as_text(cells(G, 2, edit={"gri": "0.5"})))
    write(subs / H, "lab.txt", as_text(cells(H, 4, learning_rate="0.002 * (c + 2)")))
    (subs / E).mkdir()
    (subs / E / f"{E}_report.pdf").write_bytes(b"%PDF-1.4 not read by the audit")
    write(subs / F, "lab.txt", as_text(cells(F, 0)))
    # A's notebook, unchanged, handed in under K's name: its text names A's roll
    write(subs / "kiran", f"{K}.txt", as_text(cells(A, 3)))
    rows = [["Name", "Roll No.", "Email"]]
    rows += [[NAMES[r], r, f"{r}@uni.edu"] for r in (A, B, C, G, H, D, E, K)]
    rows += [["Typo", "1023O3346", "t@uni.edu"], [NAMES[B], B, "again@uni.edu"]]
    roster = root / "roster.csv"
    with open(roster, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return subs, roster


@pytest.fixture(scope="module")
def audit(handed_in):
    """The class audited in Python, once for the module."""
    return audit_paths([handed_in[0]], seed_range=(0, 5), workers=2)


@pytest.fixture(scope="module")
def audited(handed_in, tmp_path_factory):
    """``tinygrad-lab audit --rolls roster.csv --out DIR`` on the class, once for the module (capsys
    is a test's): its exit status, stdout, stderr and folder."""
    subs, roster = handed_in
    out = tmp_path_factory.mktemp("audit") / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = ["audit", str(subs), "--rolls", str(roster), "--out", str(out), "--seed-range", SEEDS,
            "--no-progress", "--workers", "2", "--spread-seeds", "3"]  # fmt: skip
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return code, stdout.getvalue(), stderr.getvalue(), out


def csv_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# ------------------------------------------------------------------------------ verdicts
def test_the_verdicts_are_one_table_in_priority_order():
    assert [v.priority for v in VERDICTS] == list(range(1, len(VERDICTS) + 1))
    assert len({v.name for v in VERDICTS}) == len(VERDICTS) and VERDICTS[-1] is CLEAN


def test_audit_csv_gives_each_student_their_verdict_most_urgent_first(audited):
    code, _, _, out = audited
    rows = csv_rows(out / "audit.csv")
    assert code == 1
    priorities = [int(r["priority"]) for r in rows]
    assert priorities == sorted(priorities)
    by_roll = {r["roll"] if r["name"] != K else K: r for r in rows}
    for roll, verdict in EXPECTED.items():
        assert by_roll[roll]["verdict"] == verdict.name, (roll, by_roll[roll]["reasons"])
        assert int(by_roll[roll]["priority"]) == verdict.priority
    # the roster's columns beside the roll; a column an output has ("name") is the roster's
    assert list(rows[0])[:6] == ["priority", "verdict", "name", "roll", "roster Name", "Email"]
    assert by_roll[C]["roster Name"] == NAMES[C] and by_roll[C]["Email"] == f"{C}@uni.edu"
    assert by_roll[F]["roster Name"] == "" and "not on the roster" in by_roll[F]["reasons"]
    assert f"roll {A}" in by_roll[C]["reasons"]  # the instructor's copy says whose


def test_who_handed_in_nothing_or_only_unreadable_files_is_a_row(audited):
    _, stdout, _, out = audited
    rows = {r["roll"]: r for r in csv_rows(out / "audit.csv")}
    assert {roll for roll, r in rows.items() if r["name"] == ""} == {D}
    assert rows[D]["verdict"] == "nothing handed in" and rows[D]["documents"] == ""
    # only a PDF: a submission of its own, named by the roll in its file's name
    assert rows[E]["verdict"] == "check by hand" and "unreadable format" in rows[E]["reasons"]
    assert f"{E}_report.pdf" in rows[E]["documents"] + rows[E]["reasons"]
    assert f"{D} ({NAMES[D]}): nothing handed in" in stdout
    assert f"{E}: no document could be read\n  unreadable format: " in stdout
    markdown = (out / "audit.md").read_text()
    assert (
        "## Handed in nothing the audit can read" in markdown and f"- {D} ({NAMES[D]})" in markdown
    )


def test_audit_md_has_the_verdict_table_and_the_class_in_the_same_order(audited):
    _, _, _, out = audited
    markdown = (out / "audit.md").read_text()
    for verdict in VERDICTS:
        assert f"| {verdict.priority} | {verdict.name} |" in markdown
    csv_order = [r["name"] or r["roll"] for r in csv_rows(out / "audit.csv")]
    table = markdown.split("| priority | verdict | submission |")[1]
    md_order = [line.split(" | ")[2] for line in table.splitlines()[2:] if line.startswith("| ")]
    md_order = [name if name != "—" else None for name in md_order]
    rolls = [line.split(" | ")[3] for line in table.splitlines()[2:] if line.startswith("| ")]
    assert [n or r for n, r in zip(md_order, rolls, strict=True)] == csv_order
    assert "## Roster: roster.csv" in markdown and "row 10: bad roll number '1023O3346'" in markdown
    assert f"roll {B} is on it 2 times (rows 3, 11)" in markdown


def test_the_roster_s_skipped_row_and_repeat_are_on_stderr(audited):
    _, _, stderr, _ = audited
    lines = stderr.splitlines()
    assert any(line.startswith("tinygrad-lab: warning: ") and "row 10" in line for line in lines)
    assert any(f"row 11: roll {B} repeats row 3; each is checked by hand" in line for line in lines)


def test_a_submission_s_report_gives_its_verdict_and_roster_row(audited):
    _, _, _, out = audited
    report = (out / C / "audit.md").read_text()
    assert f"**Verdict**: {COPIED.name} (priority 1)." in report
    assert f"**Roster** (row 4): Name {NAMES[C]}, Email {C}@uni.edu." in report


# ------------------------------------------------------------------------------ students
def test_grades_csv_has_one_row_a_student_for_an_lms(audited):
    _, _, _, out = audited
    rows = csv_rows(out / "grades.csv")
    assert list(rows[0]) == ["roll", "name", "verdict", "findings"]
    assert [r["roll"] for r in rows] == [A, B, C, G, H, D, E, K, F]  # the roster's order
    grades = {r["roll"]: r for r in rows}
    for roll, verdict in EXPECTED.items():
        assert grades[roll]["verdict"] == verdict.name
        assert grades[roll]["name"] == NAMES.get(roll, "")
    assert (
        grades[A]["findings"] == "" and "identical to another submission" in grades[C]["findings"]
    )


def class_rolls(handed_in) -> set[str]:
    subs, roster = handed_in
    with warnings.catch_warnings():  # its skipped row and repeat: tested elsewhere
        warnings.simplefilter("ignore")
        rolls = set(Roster.read(roster).rolls) | {A, B, C, G, H, D, E, F, K}
    for path in subs.rglob("*"):  # every roll any submission's text gives
        if path.is_file() and path.suffix != ".pdf":
            rolls |= set(re.findall(r"(?<!\d)1023\d{5}(?!\d)", path.read_text()))
    return rolls


def test_no_feedback_file_names_another_student(audited, handed_in):
    _, _, _, out = audited
    files = {p.stem: p.read_text() for p in (out / "feedback").glob("*.md")}
    assert set(files) == {A, B, C, G, H, D, E, F, K}
    everyone = class_rolls(handed_in)
    for roll, text in files.items():
        for other in everyone - {roll}:
            assert other not in text, (roll, other)
        for name in set(NAMES.values()) - {NAMES.get(roll)}:
            assert name not in text, (roll, name)
    assert "identical to another submission in this class" in files[C]
    assert f"Verdict**: {COPIED.name}" in files[C] and NAMES[C] in files[C]
    assert f"Verdict**: {COPIED.name}" in files[K] and "another roll of this class" in files[K]
    assert files[D].count("no file of yours was found") == 1


def test_the_anonymiser_takes_out_rolls_and_names_but_not_other_digits():
    anonymise = Anonymiser({"102300125", "102303346"}, {"Bilal Khan"})
    text = "copied from 102300125's (roll 102300125), Bilal Khan; seed 1023003460 GRI 0.102300125"
    assert anonymise(text) == (
        "copied from another roll of this class's (another roll of this class), another "
        "student; seed 1023003460 GRI 0.another roll of this class"
    )


# ------------------------------------------------------------------------------ class plot
def test_spread_seeds_cover_the_range_evenly_with_both_ends():
    assert spread_seeds((0, 5), 50) == [0, 1, 2, 3, 4, 5]
    seeds = spread_seeds((0, 999), 50)
    assert len(seeds) == 50 and seeds[0] == 0 and seeds[-1] == 999
    gaps = np.diff(seeds)
    assert gaps.min() >= 20 and gaps.max() <= 21


def test_the_class_plot_is_written_with_its_data(audited):
    _, _, _, out = audited
    assert (out / "class_gri.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = {r["submission"]: r for r in csv_rows(out / "gri_spread.csv")}
    assert set(rows) == {A, B, C, G, H, F, K}
    assert {r["seeds"] for r in rows.values()} == {"3"}  # --spread-seeds 3
    assert float(rows[G]["submitted"]) == 0.5


def test_the_class_plot_s_data_is_each_roll_s_spread_of_run_1_gri_over_seeds(audit):
    some = [s for s in audit.submissions if s.name in (A, G, K)]
    data = class_gri(some, (0, 5), workers=2)
    assert data.seeds == (0, 1, 2, 3, 4, 5)
    spread = {s.name: s for s in data.students}
    # the notebook's own code, seed by seed (tests/support/notebook_oracle.py), against the
    # seed axis
    oracle = [figures(A, seed)["gri"] for seed in data.seeds]
    low, median, high = np.percentile(oracle, [5, 50, 95])
    a = spread[A]
    assert (a.seeds, a.defined) == (6, 6)
    assert a.minimum == pytest.approx(min(oracle), rel=1e-9)
    assert a.maximum == pytest.approx(max(oracle), rel=1e-9)
    assert (a.low, a.median, a.high) == pytest.approx((low, median, high), rel=1e-9)
    assert a.submitted == pytest.approx(figures(A, 3)["gri"], rel=1e-12) and a.within
    # K handed in A's notebook: K's roll is K's own, so the spread is K's roll's, not A's
    assert spread[K].roll == K and spread[K].submitted == a.submitted
    assert spread[K].minimum != a.minimum
    assert spread[G].submitted == 0.5


# ------------------------------------------------------------------------------ JSON, errors
def test_json_holds_each_verdict_and_the_roster(handed_in, capsys):
    subs, roster = handed_in
    code = main(["audit", str(subs / A), str(subs / D), "--rolls", str(roster), "--json",
                 "--seed-range", SEEDS])  # fmt: skip
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    verdicts = {v["roll"]: v for v in document["verdicts"]}
    assert verdicts[A]["verdict"] == "clean" and verdicts[D]["verdict"] == "nothing handed in"
    assert document["roster"]["repeated"] == {B: [3, 11]}


def test_a_class_that_is_all_clean_and_on_the_roster_exits_0(handed_in, tmp_path, capsys):
    subs, _ = handed_in
    roster = tmp_path / "r.tsv"
    roster.write_text(f"roll\tName\n{A}\tAsha\n")
    code = main(["audit", str(subs / A), "--rolls", str(roster), "--seed-range", SEEDS])
    assert code == 0 and "no findings" in capsys.readouterr().out


def test_a_bad_roster_stops_the_audit_before_it_reads_anything(handed_in, tmp_path, capsys):
    subs, _ = handed_in
    roster = tmp_path / "r.csv"
    roster.write_text("Name,ID\nAsha,12\n")
    assert main(["audit", str(subs), "--rolls", str(roster), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.endswith(
        f"error: roster {roster} holds no roll number; its roll numbers are read from column 1 "
        "('Name'): name their column with --roll-column\n"
    )
    assert not (tmp_path / "o").exists()
    assert main(["audit", str(subs), "--roll-column", "ID"]) == 2
    assert "give --rolls ROSTER" in capsys.readouterr().err


def test_gradebook_without_a_roster_has_no_missing_rows(audit):
    some = [s for s in audit.submissions if s.name in (A, G)]
    book = gradebook(dataclasses.replace(audit, submissions=tuple(some)))
    assert [(e.roll, e.verdict) for e in book.entries] == [(G, NOT_REPRODUCED), (A, CLEAN)]


def made(
    rules=(), reproduction=(), consistency=(), class_findings=(), name=A, roll=A, handed_in=()
):
    return SubmissionAudit(name, roll, (Path("lab.txt"),), {}, tuple(rules), tuple(reproduction),
                           tuple(consistency), class_findings=tuple(class_findings),
                           handed_in=tuple(handed_in))  # fmt: skip


CLEARED = Row("Part A figures", None, None, "nothing to audit", note="outputs cleared")
MISMATCH = Row("roll number", A, B, "roll mismatch", note=f"this is roll {B}'s submission")


REPRODUCED = DocumentSeed(Path("lab.txt"), 3, "reproduced", "seed 3 reproduces it")


@pytest.mark.parametrize(
    ("submission", "expected"),
    [
        (made(reproduction=[REPRODUCED]), CLEAN),
        (made(handed_in=[CLEARED]), CHECK_BY_HAND),  # every output cleared: nothing to audit
        (made(reproduction=[DocumentSeed(Path("lab.txt"), None, "not searched", "no loss")]),
         CHECK_BY_HAND),
        (made(reproduction=[REPRODUCED], name=B, roll=B, handed_in=[MISMATCH]),
         CHECK_BY_HAND),  # A's text under B's name
        (made([Row("learning rate", "0.1", "0.008", "wrong")], [REPRODUCED]), WRONG),
        (made([Row("roll number", "12", None, "wrong")]), CHECK_BY_HAND),
        (made(reproduction=[REPRODUCED], consistency=[
            Row("run 1 GRI = ‖∇W_first‖ / ‖∇W_last‖", "0.5", "1 / 2 = 0.4", "inconsistent")]),
         NOT_REPRODUCED),
        (made(reproduction=[REPRODUCED], consistency=[
            Row("manual convolution (centre)", "-18", "-70", "inconsistent")]), WRONG),
        (made(reproduction=[REPRODUCED], consistency=[
            Row("claim: no_vanishing", "no vanishing", "GRI 0.01", "contradicted")]), WRONG),
        (made(reproduction=[REPRODUCED], class_findings=["shared work"],
              rules=[Row("learning rate", "0.1", "0.008", "wrong")]), COPIED),
    ],
)  # fmt: skip
def test_a_submission_s_verdict_is_its_most_urgent_reason(submission, expected):
    assert most_urgent(reasons(submission)) is expected


def test_an_unknown_class_finding_is_told_without_a_roll():
    (reason,) = [r for r in reasons(made(class_findings=[f"the same as roll {B}"])) if r.verdict
                 is COPIED]  # fmt: skip
    anonymise = Anonymiser({B})
    assert (
        B in reason.text and anonymise(reason.feedback) == "the same as another roll of this class"
    )


def test_no_plots_or_no_matplotlib_trains_no_spread(handed_in, tmp_path, capsys, monkeypatch):
    subs, _ = handed_in
    argv = ["audit", str(subs / A), "--seed-range", SEEDS, "--out"]
    assert main([*argv, str(tmp_path / "a"), "--no-plots"]) == 0
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main([*argv, str(tmp_path / "b")]) == 0
    assert "note: no class plot: it needs matplotlib" in capsys.readouterr().err
    for out in (tmp_path / "a", tmp_path / "b"):
        assert (out / "grades.csv").exists() and (out / "feedback" / f"{A}.md").exists()
        assert not (out / "class_gri.png").exists() and not (out / "gri_spread.csv").exists()
