"""No dishonest submission passed: each kind, made by the course notebook's own code
(tests/support/audit_submissions.py) and then handed in the dishonest way, is a finding that
says what happened, whose roll is whose, and exits 1; and the honest neighbour of each stays clean.

- the example notebook (or a friend's) handed in under another roll's folder, file name or
  title; one roll handed in twice;
- a friend's digits typed in (``a, b, c = 1, 5, 3``): the configuration the notebook ran is
  the one searched, and the report says whose it is;
- every output cleared ("nothing to audit"); only a PDF or a Word document ("unreadable
  format");
- a claim ("GRI decreased") checked against the run the seed search placed each GRI in;
- a figure that does not parse is counted apart from the files that could not be read.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from audit_submissions import (
    as_ipynb,
    as_markdown,
    as_text,
    cells,
    cleared,
    figures,
    shaped,
    write,
)
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from tinygrad_lab.lab.audit.report import class_csv, class_markdown, submission_markdown
from tinygrad_lab.lab.audit.run import audit_paths
from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import EXAMPLE_ROLL, lab_config

X, Y = "102300125", "102300521"  # a = 5, b = 2, c = 1 and a = 1, b = 2, c = 5
SEED = 40
SLOW = settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a shrink takes minutes
)


def tiles(roll: str) -> bool:
    return lab_config(roll).output_size is not None


rolls = st.from_regex(r"1023[0-9]{5}", fullmatch=True).filter(tiles)


def verdicts(submission) -> dict[str, list]:
    found: dict[str, list] = {}
    for row in submission.findings:
        found.setdefault(row.verdict, []).append(row)
    return found


def digits(roll: str) -> str:
    return f"a = {roll[-1]}, b = {roll[-2]}, c = {roll[-3]}"


# ------------------------------------------------------------------------ another roll's work
@pytest.mark.parametrize("under", ["folder", "file name", "title"])
def test_the_example_notebook_handed_in_under_another_roll_is_a_roll_mismatch(tmp_path, under):
    notebook = as_text(cells(EXAMPLE_ROLL, SEED, title_roll=X if under == "title" else None))
    if under == "folder":
        write(tmp_path / X, "lab.txt", notebook)
    elif under == "file name":
        write(tmp_path, f"lab6_{X}.txt", notebook)
    else:
        write(tmp_path / "ann", "lab.txt", notebook)
    (submission,) = audit_paths([tmp_path]).submissions
    assert submission.roll == X and submission.name == X  # whose it is, by how it came in
    mismatches = verdicts(submission)["roll mismatch"]
    # the code's roll, and the title's too unless the title is how it came in
    assert len(mismatches) == (1 if under == "title" else 2)
    (mismatch,) = [r for r in mismatches if r.reported.endswith("(its code's ROLL_NUMBER)")]
    assert mismatch.reported == f"{EXAMPLE_ROLL} (its code's ROLL_NUMBER)"
    source = {"folder": "its folder's name", "file name": "its file's name", "title": "its title"}
    assert mismatch.expected.startswith(f"{X} ({source[under]}, ")
    assert f"roll {X}'s submission" in mismatch.note and "example notebook" in mismatch.note
    assert f"configuration and figures are roll {EXAMPLE_ROLL}'s" in mismatch.note
    # the rules are X's, which the example's configuration breaks; the search trains what ran
    wrong = {row.figure for row in verdicts(submission)["wrong"]}
    assert {"hidden width", "learning rate"} <= wrong
    assert submission.seeds == [SEED] and not submission.clean
    assert submission.configuration == lab_config(EXAMPLE_ROLL).network()
    assert f"roll {EXAMPLE_ROLL} (its code's ROLL_NUMBER)" in submission.configuration_owner
    assert f"not roll {X}'s ({digits(X)})" in submission.configuration_owner
    # the two rolls are the roll rows' to tell, not also "one document gives it two values"
    assert {r.verdict for r in submission.findings if r.figure == "roll number"} == {
        "roll mismatch"
    }
    if under == "folder":
        assert main(["audit", str(tmp_path), "--no-progress"]) == 1


def test_a_file_named_by_one_roll_whose_code_runs_another_says_both_and_whose_it_is(tmp_path):
    write(tmp_path, f"{Y}.txt", as_text(cells(Y, SEED)))
    write(tmp_path, f"lab6_{X}.txt", as_text(cells(Y, SEED + 1)))  # Y's notebook, as X's
    audit = audit_paths([tmp_path], workers=2)
    by_name = {s.name: s for s in audit.submissions}
    assert by_name[Y].clean and by_name[Y].seeds == [SEED]
    report = submission_markdown(by_name[X])
    assert f"# Audit of {X} (roll {X})" in report
    assert f"this is roll {X}'s submission, but its code runs with ROLL_NUMBER = {Y}" in report
    assert f"{X} (its file's name, lab6_{X}.txt)" in report
    assert f"the configuration of roll {Y} (its code's ROLL_NUMBER), not roll {X}'s" in report
    assert by_name[X].seeds == [SEED + 1]


def test_a_roll_handed_in_twice_is_a_finding_on_both_naming_the_other(tmp_path):
    write(tmp_path / "ann", "lab.txt", as_text(cells(X, SEED)))
    write(tmp_path / "bob", "lab.txt", as_text(cells(X, SEED + 1)))
    write(tmp_path / "cy", "lab.txt", as_text(cells(Y, SEED)))
    audit = audit_paths([tmp_path], workers=2)
    by_name = {s.name: s for s in audit.submissions}
    assert set(by_name) == {f"ann/{X}", f"bob/{X}", Y}
    for one, other in (("ann", "bob"), ("bob", "ann")):
        (twice,) = verdicts(by_name[f"{one}/{X}"])["handed in twice"]
        assert f"also {other}/{X} ({other}/lab.txt)" in twice.note
        assert twice.where == f"{one}/lab.txt"
    assert by_name[Y].clean
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(class_csv(audit)))}
    assert rows[f"ann/{X}"]["findings"] == "1" and rows[Y]["findings"] == "0"


def test_one_student_s_notebook_and_write_up_in_two_subfolders_are_one_submission(tmp_path):
    write(tmp_path / "ann" / "notebook", "lab.txt", as_text(cells(X, SEED)))
    write(tmp_path / "ann" / "report", "README.md", as_markdown(X, SEED))
    write(tmp_path / "cy", "lab.txt", as_text(cells(Y, SEED)))
    audit = audit_paths([tmp_path], workers=2)
    by_roll = {s.roll: s for s in audit.submissions}
    assert len(audit.submissions) == 2 and by_roll[X].clean, by_roll[X].findings
    assert {p.name for p in by_roll[X].documents} == {"lab.txt", "README.md"}


# ------------------------------------------------------------------------ a friend's digits
@SLOW
@given(roll=rolls, friend=rolls, seed=st.integers(0, 999))
def test_digits_typed_in_from_a_friend_train_what_the_notebook_printed(
    tmp_path_factory, roll, friend, seed
):
    mine, theirs = lab_config(roll).network(), lab_config(friend).network()
    assume(mine["hidden_width"] != theirs["hidden_width"])  # else no wrong width to flag
    folder = tmp_path_factory.mktemp("digits")
    notebook = cells(roll, seed, config_roll=friend, digits_in_one_line=True)
    assert f"a, b, c = {friend[-1]}, {friend[-2]}, {friend[-3]}" in notebook[1][1]
    write(folder, "lab.txt", as_text(notebook))
    (submission,) = audit_paths([folder]).submissions
    trained = submission.configuration
    assert trained == theirs and submission.seeds == [seed]
    printed = f"{trained['hidden_width']} {trained['hidden_layers']} {trained['learning_rate']!r}"
    assert printed == notebook[2][2]  # what the notebook printed is what was searched
    assert ("wrong", "hidden width") in {(r.verdict, r.figure) for r in submission.findings}
    owner = submission.configuration_owner
    assert f"the configuration of digits {digits(friend)}, which its code sets by hand" in owner
    assert f"not roll {roll}'s ({digits(roll)})" in owner
    assert owner in submission_markdown(submission)


def test_a_friend_s_digits_name_the_friend_when_the_class_has_them(tmp_path):
    write(tmp_path / "ann", "lab.txt", as_text(cells(X, SEED)))
    write(tmp_path / "cy", "lab.txt", as_text(cells(Y, 7, config_roll=X, digits_in_one_line=True)))
    by_roll = {s.roll: s for s in audit_paths([tmp_path], workers=2).submissions}
    (named,) = by_roll[Y].class_findings
    assert f"is the configuration of roll {X} in this class" in named
    assert by_roll[Y].configuration == lab_config(X).network() and by_roll[Y].seeds == [7]
    assert by_roll[X].clean


@pytest.mark.parametrize(
    ("rate", "owner"),
    [
        ("0.008", "the configuration of digits a = 5, b = 2, 5 or 8, c = 3"),  # c = 3's rate
        ("0.03", "a configuration no roll's rules give (no digits a, b, c)"),
    ],
)
def test_a_configuration_typed_in_says_which_digits_give_it(tmp_path, rate, owner):
    write(tmp_path, "lab.txt", as_text(cells(X, SEED, learning_rate=rate)))
    (submission,) = audit_paths([tmp_path]).submissions
    assert submission.configuration["learning_rate"] == float(rate)
    assert submission.configuration_owner == f"{owner}, not roll {X}'s ({digits(X)})"
    assert submission.seeds == [SEED]


@pytest.mark.parametrize("write_up", [True, False])
def test_a_value_one_printed_step_off_the_rule_is_wrong_not_truncated(tmp_path, write_up):
    # "5" is no truncation of 6, nor "0.003" of 0.004
    layers, rate = lab_config(X).hidden_layers, lab_config(X).learning_rate
    if write_up:
        text = as_markdown(X, SEED).replace(f"(b mod 3) = {layers}", f"(b mod 3) = {layers - 1}")
        text = text.replace(f"(c + 1) = {rate!r}", f"(c + 1) = {rate - 0.001:.3f}")
        write(tmp_path, "README.md", text)
    else:
        notebook = cells(X, SEED)
        width = lab_config(X).hidden_width
        notebook[2] = (*notebook[2][:2], f"{width} {layers - 1} {rate - 0.001:.3f}")
        write(tmp_path, "lab.txt", as_text(notebook))
    (submission,) = audit_paths([tmp_path]).submissions
    wrong = {(r.figure, r.reported) for r in submission.findings if r.verdict == "wrong"}
    assert ("hidden layers", str(layers - 1)) in wrong
    assert ("learning rate", f"{rate - 0.001:.3f}") in wrong
    assert submission.configuration["hidden_layers"] == layers - 1  # what it says it ran


# ------------------------------------------------------------------------ nothing to read
@pytest.mark.parametrize("ipynb", [True, False])
def test_a_notebook_with_every_output_cleared_is_nothing_to_audit(tmp_path, capsys, ipynb):
    notebook = cleared(cells(X, SEED))
    name = "lab.ipynb" if ipynb else "lab.txt"
    write(tmp_path / "dee", name, as_ipynb(notebook) if ipynb else as_text(notebook))
    (submission,) = audit_paths([tmp_path]).submissions
    (row,) = submission.findings
    assert row.verdict == "nothing to audit" and "outputs cleared" in row.note
    assert submission.roll == X and not submission.clean and submission.reproduction == ()
    assert main(["audit", str(tmp_path), "--no-progress"]) == 1
    assert "nothing to audit" in capsys.readouterr().out


def test_a_pdf_or_a_word_document_alone_is_an_unreadable_submission(tmp_path, capsys):
    write(tmp_path / "ann", "lab.txt", as_text(cells(X, SEED)))
    (tmp_path / "ann" / "plot.png").write_bytes(b"\x89PNG\r\n")  # beside a notebook: no matter
    (tmp_path / Y).mkdir()
    (tmp_path / Y / "report.pdf").write_bytes(b"%PDF-1.4\n")  # named by its folder
    other = "102300348"
    (tmp_path / f"lab6_{other}.docx").write_bytes(b"PK\x03\x04")  # named by its file
    (tmp_path / "roster.csv").write_text("roll\n")  # no one's: left alone
    out = tmp_path.parent / f"{tmp_path.name}-out"
    assert main(["audit", str(tmp_path), "--out", str(out), "--no-progress"]) == 1
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    rows = {r["roll"]: r for r in csv.DictReader((out / "audit.csv").open())}
    assert set(rows) == {X, Y, other}
    assert rows[X]["findings"] == "0" and rows[Y]["findings"] == rows[other]["findings"] == "1"
    audit = audit_paths([tmp_path], workers=2)
    by_roll = {s.roll: s for s in audit.submissions}
    for roll, name, kind in ((Y, "report.pdf", "a PDF"), (other, f"lab6_{other}.docx", "Word")):
        (row,) = by_roll[roll].findings
        assert (row.verdict, row.reported) == ("unreadable format", name) and kind in row.note
    assert by_roll[X].clean and audit.errors == ()
    table = (out / "audit.md").read_text()
    assert f"| {Y} | {Y} |" in table and "| files that could not be read | 0 |" in table


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("lab.docx", b"PK\x03\x04", "a Word document"),
        ("screenshot.png", b"\x89PNG\r\n", "an image"),
        ("lab.ipynb", b'{"cells": [', "not a notebook"),
    ],
)
def test_a_student_folder_of_only_an_unreadable_file_is_named_by_the_folder(
    tmp_path, name, content, why
):
    (tmp_path / "eve" / "work").mkdir(parents=True)
    (tmp_path / "eve" / "work" / name).write_bytes(content)
    (submission,) = audit_paths([tmp_path]).submissions
    (row,) = submission.findings
    assert (row.verdict, row.reported) == ("unreadable format", name) and why in row.note
    assert (submission.name, submission.roll) == ("eve", "")
    assert "(roll not given)" in submission_markdown(submission)


# ------------------------------------------------------------------------ the section-1 rest
def _claims(roll: str, seed: int, edit: dict[str, str] | None = None) -> str:
    """Everything of Part A in one cell (the run of "GRI:" is not certain from the text),
    then both claims about how GRI changed at the break."""
    notebook = shaped(roll, seed, "one_cell")["lab.txt"]
    if edit:
        for name, text in edit.items():
            notebook = notebook.replace(repr(figures(roll, seed)[name]), text)
    claims = "The GRI decreased after the break.\n\nThe GRI increased after the break.\n"
    return f"{notebook}\n{claims}"


@SLOW
@given(roll=rolls, seed=st.integers(0, 999))
def test_a_claim_is_checked_against_the_run_the_seed_search_matched(tmp_path_factory, roll, seed):
    folder = tmp_path_factory.mktemp("claims")
    write(folder, "lab.txt", _claims(roll, seed))
    (submission,) = audit_paths([folder]).submissions
    assert submission.seeds == [seed]
    shown = figures(roll, seed)
    fell = shown["run2_gri"] < shown["gri"]
    rows = {r.figure: r for r in submission.consistency if r.figure.startswith("claim")}
    decreased, increased = rows["claim: gri_decreased"], rows["claim: gri_increased"]
    assert (decreased.verdict, increased.verdict) == (
        ("holds", "contradicted") if fell else ("contradicted", "holds")
    )
    expected = f"run 1 GRI {shown['gri']!r}, run 2 GRI {shown['run2_gri']!r}"
    assert decreased.expected == expected  # the runs the seed placed them in, no guess


def test_a_claim_in_a_document_not_reproduced_says_which_figures_it_compared(tmp_path):
    true = figures(X, SEED)
    write(tmp_path, "lab.txt", _claims(X, SEED, edit={"loss100": f"{true['loss100'] + 3e-4}"}))
    (submission,) = audit_paths([tmp_path]).submissions
    assert submission.reproduction[0].outcome == "not reproduced"
    rows = {r.figure: r for r in submission.consistency if r.figure.startswith("claim")}
    fell = true["run2_gri"] < true["gri"]
    claim = rows["claim: gri_decreased" if fell else "claim: gri_increased"]
    assert claim.verdict == "holds" and "compared as run 1's" in claim.expected


def test_a_figure_that_does_not_parse_is_counted_apart_from_files_not_read(tmp_path):
    true = repr(figures(X, SEED)["loss100"])
    garbled = true[:4] + "O" + true[5:]
    write(tmp_path / "ann", "lab.txt", as_text(cells(X, SEED, edit={"loss100": garbled})))
    write(tmp_path / "bad", "broken.ipynb", '{"cells": [')  # no roll in its name: not read
    audit = audit_paths([tmp_path / "ann", tmp_path / "bad"])
    assert [e.kind for e in audit.errors] == ["file", "figure"]
    table = class_markdown(audit)
    assert "| files that could not be read | 1 |" in table
    assert "| figures that did not parse (their files audited without them) | 1 |" in table
    assert "## Figures that did not parse" in table and garbled in table


def test_unreadable_files_are_found_in_a_folder_given_alone(tmp_path):
    pdf = tmp_path / Y / f"{Y}.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(b"%PDF-1.4\n")
    (submission,) = audit_paths([pdf]).submissions
    assert submission.roll == Y and submission.findings[0].verdict == "unreadable format"
    assert Path(submission.documents[0]) == pdf
