"""The audit on submissions the tests make themselves (tests/support/audit_submissions.py: the
course notebook's own code run for a roll and seed, handed in as .txt, .ipynb or markdown), then on
altered copies: the audit must find exactly each alteration, and nothing in the untouched ones.
Then the two seed documents as they are, the class files, the command and its bad input."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from audit_submissions import as_ipynb, as_markdown, as_text, cells, figures, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_lab.lab.audit.result import figure_name
from tinygrad_lab.lab.audit.run import audit_paths
from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import lab_config

# a copy of ../shared/seeds (the course documents, byte for byte), so that CI has them
SEEDS = Path(__file__).resolve().parents[2] / "data" / "seeds"
FORMATS = {
    "lab.txt": lambda roll, seed, **kw: as_text(cells(roll, seed, **kw)),
    "lab.ipynb": lambda roll, seed, **kw: as_ipynb(cells(roll, seed, **kw)),
    "README.md": lambda roll, seed, **kw: as_markdown(roll, seed, **kw),
}


def tiles(roll: str) -> bool:
    """Whether the roll's output-size formula gives a whole number (else the notebook's code
    prints a fraction, which the audit rightly calls wrong)."""
    return lab_config(roll).output_size is not None


def audit_one(folder: Path):
    (submission,) = audit_paths([folder]).submissions
    return submission


def finding_figures(submission) -> set[tuple[str, str]]:
    return {(row.verdict, row.figure) for row in submission.findings}


# ------------------------------------------------------------------------------ honest work
rolls = st.from_regex(r"1023[0-9]{5}", fullmatch=True).filter(tiles)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(roll=rolls, seed=st.integers(0, 999), name=st.sampled_from(sorted(FORMATS)))
def test_an_honest_submission_is_reproduced_by_its_seed_with_no_finding(
    tmp_path_factory, roll, seed, name
):
    folder = tmp_path_factory.mktemp("honest")
    write(folder, name, FORMATS[name](roll, seed))
    submission = audit_one(folder)
    assert submission.roll == roll and submission.seeds == [seed]
    assert submission.findings == [] and submission.clean, submission.findings
    assert all(row.verdict == "reproduced" for row in submission.sections()["reproduction"])


def test_a_run_that_diverged_is_reproduced_up_to_its_divergence(tmp_path):
    # at lr 2 run 1 diverges: the notebook trains on through inf and NaN, the stress test stops
    write(tmp_path, "lab.txt", as_text(cells(ROLL, SEED, learning_rate="2.0")))
    submission = audit_one(tmp_path)
    assert submission.seeds == [SEED]
    assert finding_figures(submission) == {("wrong", "learning rate")}
    rows = {row.figure: row for row in submission.sections()["reproduction"]}
    assert rows["run 1 loss, epoch 100"].verdict == "reproduced"  # 1.3e94, before divergence
    assert rows["run 1 loss, epoch 400"].verdict == "not checked"
    assert "diverged at epoch" in rows["run 1 GRI"].note
    assert "after a divergence not checked" in submission.reproduction[0].explanation


def test_a_rule_s_value_printed_short_trains_as_the_rule_s(tmp_path):
    # c = 8: the rate is 0.002 × 9 = 0.018000000000000002, which a write-up gives as 0.018
    roll, seed = "102300861", 12
    text = as_markdown(roll, seed)
    assert "= 0.018000000000000002" in text
    write(tmp_path, "README.md", text.replace("= 0.018000000000000002", "= 0.018"))
    submission = audit_one(tmp_path)
    assert submission.findings == [] and submission.seeds == [seed]
    assert submission.configuration["learning_rate"] == 0.002 * 9


def test_a_submission_reports_what_it_states_with_file_and_line(tmp_path):
    write(tmp_path, "lab.txt", as_text(cells("102300125", 7)))
    submission = audit_one(tmp_path)
    rows = {row.figure: row for row in submission.rules}
    assert rows["learning rate"].verdict == "correct" and rows["learning rate"].where
    assert all(
        row.where.startswith("lab.txt:")
        for row in submission.findings + list(rows.values())
        if row.where
    )


def test_a_dead_layer_s_gri_printed_as_nan_is_reproduced(tmp_path):
    # roll 102300015, seed 566: every unit of an inserted ReLU layer dies in run 2, so the
    # notebook's GRI2 is 0/0 and it prints nan; the audit's seed gives the same
    assert figures("102300015", 566)["run2_gri"] != figures("102300015", 566)["run2_gri"]
    write(tmp_path, "lab.txt", as_text(cells("102300015", 566)))
    submission = audit_one(tmp_path)
    assert submission.seeds == [566] and submission.findings == []


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(roll=st.from_regex(r"10230[0-9][0-9][0235689][13579]", fullmatch=True).filter(tiles))
def test_a_rule_the_documents_leave_open_is_said_open_not_wrong(tmp_path_factory, roll):
    # a odd: the activation is open; b mod 3 != 1: the layers added at the break are open
    folder = tmp_path_factory.mktemp("open")
    write(folder, "lab.txt", as_text(cells(roll, 5)))
    rows = {row.figure: row for row in audit_one(folder).rules}
    for figure in ("activation", "layers added at the break"):
        assert rows[figure].verdict == "open", rows[figure]
        assert "leave this rule open" in rows[figure].note
    assert rows["hidden width"].verdict == "correct"


# ------------------------------------------------------------------------------ alterations
ROLL, SEED = "102300125", 7


def test_a_figure_edited_in_its_4th_decimal_is_the_one_finding(tmp_path):
    true = figures(ROLL, SEED)["loss100"]
    edited = f"{true + 3e-4:.16f}"  # the 4th decimal changed, the rest as printed
    write(tmp_path, "lab.txt", as_text(cells(ROLL, SEED, edit={"loss100": edited})))
    submission = audit_one(tmp_path)
    assert finding_figures(submission) == {("not reproduced", "run 1 loss, epoch 100")}
    (document,) = submission.reproduction
    assert document.outcome == "not reproduced" and document.seed is None
    assert "not reproduced with the notebook's cell order" in document.explanation
    assert "Possible causes: cells run in another order" in document.explanation
    assert f"seed {SEED}" in document.explanation and "fabricat" not in document.explanation


def test_a_wrong_learning_rate_is_the_one_finding_and_the_seed_is_still_found(tmp_path):
    write(tmp_path, "lab.ipynb", as_ipynb(cells(ROLL, SEED, learning_rate="0.01")))
    submission = audit_one(tmp_path)
    assert finding_figures(submission) == {("wrong", "learning rate")}
    (row,) = submission.findings
    assert row.reported == "0.01" and row.expected == "0.004" and "0.002 × (c + 1)" in row.note
    assert submission.seeds == [SEED] and submission.configuration["learning_rate"] == 0.01


def test_an_epoch_1_loss_edited_still_names_the_seed_that_gives_the_rest(tmp_path):
    true = figures(ROLL, SEED)["loss1"]
    edited = f"{true - 2e-4:.16f}"  # its 4th decimal: no seed's epoch-1 loss matches it
    write(tmp_path, "lab.txt", as_text(cells(ROLL, SEED, edit={"loss1": edited})))
    submission = audit_one(tmp_path)
    assert finding_figures(submission) == {("not reproduced", "run 1 loss, epoch 1")}
    assert f"the closest, seed {SEED}" in submission.reproduction[0].explanation


def test_cells_run_out_of_order_reproduce_no_seed_and_say_so_honestly(tmp_path):
    write(tmp_path, "lab.txt", as_text(cells(ROLL, SEED, baseline_cell_runs=2)))
    submission = audit_one(tmp_path)
    (document,) = submission.reproduction
    assert document.outcome == "not reproduced" and document.seed is None
    assert "no seed in 0–999 reproduces these figures with the notebook's cells run in order" in (
        document.explanation
    )
    assert document.explanation.startswith("not reproduced with the notebook's cell order")
    assert not submission.rules or not [r for r in submission.rules if r.finding]


def test_a_class_flags_a_copied_submission_and_another_roll_s_configuration(tmp_path):
    honest, copier, borrower = "102300125", "102300348", "102309993"
    write(tmp_path / "ann", "lab.txt", as_text(cells(honest, SEED)))
    # a copy of ann's notebook with only the roll changed: her printed figures and outputs
    copied = as_text(cells(honest, SEED)).replace(
        f"ROLL_NUMBER = {honest}", f"ROLL_NUMBER = {copier}"
    )
    copied = copied.replace(f"Roll Number: {honest}", f"Roll Number: {copier}")
    write(tmp_path / "bob", "lab.txt", copied)
    # cy's own run, with ann's configuration (her digits typed in): another roll's rules
    write(tmp_path / "cy", "lab.txt", as_text(cells(borrower, 321, config_roll=honest)))
    audit = audit_paths([tmp_path], workers=2)
    by_roll = {s.roll: s for s in audit.submissions}
    assert set(by_roll) == {honest, copier, borrower}
    assert by_roll[honest].findings == [] and by_roll[honest].seeds == [SEED]
    # the original is told apart: its figures reproduce under its own roll's rules
    assert by_roll[honest].class_findings == () and by_roll[honest].clean
    (told,) = by_roll[honest].class_notes
    assert copier in told and "this is the original" in told
    (copied,) = [n for n in by_roll[copier].class_findings if "identical" in n]
    assert honest in copied and f"copied from {honest}" in copied
    assert f"reproduce under roll {honest}'s rules" in copied
    assert not by_roll[copier].clean
    (borrowed,) = by_roll[borrower].class_findings
    assert f"the configuration of roll {honest} in this class" in borrowed
    wrong = {row.figure for row in by_roll[borrower].findings if row.verdict == "wrong"}
    assert {"hidden width", "learning rate"} <= wrong
    assert by_roll[borrower].seeds == [321]  # its figures are its own run's, with ann's setup


# ------------------------------------------------------------------------------ seed documents
def test_the_seed_documents_give_their_seeds_different_runs_and_the_minus_18():
    assert SEEDS.is_dir(), f"the seed documents are missing: {SEEDS}"
    (submission,) = audit_paths([SEEDS]).submissions
    seeds = {d.path.name: d.seed for d in submission.reproduction}
    assert seeds == {"lab6-notebook.txt": 219, "lab6-readme.md": 144}
    assert all(d.outcome == "reproduced" for d in submission.reproduction)
    assert all(r.verdict == "reproduced" for r in submission.sections()["reproduction"])
    minus_18 = [r for r in submission.findings if r.reported and r.reported.startswith("-18")]
    assert {r.where.split(":")[0] for r in minus_18} == {"lab6-notebook.txt", "lab6-readme.md"}
    assert all(r.figure.startswith(figure_name("manual_conv")) for r in submission.findings)
    assert {r.verdict for r in submission.findings} == {"wrong", "inconsistent"}
    assert all("-70" in (r.expected or "") for r in submission.findings)


def test_the_command_prints_each_document_s_seed_and_writes_the_class_files(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["audit", str(SEEDS), "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 1  # the documents' −18 is a finding
    assert "lab6-notebook.txt: seed 219" in printed and "lab6-readme.md: seed 144" in printed
    assert "the documents come from different runs" in printed
    rows = list(csv.DictReader((out / "audit.csv").open()))
    assert [(r["roll"], r["seeds"], r["part_b_errors"]) for r in rows] == [
        ("102303346", "219;144", "2")
    ]
    assert "| submissions | 1 |" in (out / "audit.md").read_text()
    per_submission = (out / "102303346" / "audit.md").read_text()
    for section in ("## Rules", "## Reproduction", "## Consistency"):
        assert section in per_submission
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # no staged leftovers


def test_json_is_the_whole_typed_result(capsys):
    code = main(["audit", str(SEEDS), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and document["seed_range"] == [0, 999] and document["clean"] is False
    (submission,) = document["submissions"]
    assert [d["seed"] for d in submission["reproduction"]] == [219, 144]


def test_a_clean_class_exits_0(tmp_path, capsys):
    write(tmp_path, "lab.txt", as_text(cells(ROLL, SEED)))
    assert main(["audit", str(tmp_path), "--no-progress"]) == 0
    assert "no findings" in capsys.readouterr().out


# ------------------------------------------------------------------------------ bad input
def test_bad_input_is_one_line_each_and_the_others_are_still_audited(tmp_path, capsys):
    good = write(tmp_path / "good", "lab.txt", as_text(cells(ROLL, SEED)))
    write(tmp_path / "bad", "broken.ipynb", '{"cells": [')
    write(tmp_path / "anon", "notes.md", "GRI = 1.2\n")
    (tmp_path / "empty").mkdir()
    missing = tmp_path / "nowhere"
    code = main(["audit", str(good.parent), str(tmp_path / "bad"), str(tmp_path / "anon"),
                 str(tmp_path / "empty"), str(missing), "--no-progress"])  # fmt: skip
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert code == 1 and len(errors) == 4, errors
    assert any("broken.ipynb" in e for e in errors)
    assert any("notes.md" in e and "no roll number" in e for e in errors)
    assert any(str(tmp_path / "empty") in e and "no submission" in e for e in errors)
    assert any(str(missing) in e and "no such file or folder" in e for e in errors)
    assert "Traceback" not in captured.err
    assert f"{ROLL}: lab.txt: seed {SEED}" in captured.out


def test_a_figure_that_does_not_parse_is_one_line_and_the_rest_is_audited(tmp_path, capsys):
    true = repr(figures(ROLL, SEED)["loss100"])
    garbled = true[:4] + "O" + true[5:]  # a letter O for a zero, as a retyped figure has
    write(tmp_path, "lab.txt", as_text(cells(ROLL, SEED, edit={"loss100": garbled})))
    write(tmp_path / "other", "lab.md", as_text(cells(ROLL, SEED)).replace(ROLL, "1023O0125"))
    code = main(["audit", str(tmp_path), "--no-progress"])
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert code == 1 and len(errors) == 2, errors
    assert any(f"run 1 loss, epoch 100 {garbled!r} does not parse" in e for e in errors)
    assert any("lab.md" in e and "'1023O0125' is not all digits" in e for e in errors)
    assert f"{ROLL}: lab.txt: seed {SEED}" in captured.out  # found from the other figures


def test_nothing_to_audit_is_a_usage_error(tmp_path, capsys):
    assert main(["audit", str(tmp_path / "nowhere")]) == 2
    assert main(["audit", str(SEEDS), "--seed-range", "9-3"]) == 2
    assert "reversed" in capsys.readouterr().err


def test_an_out_folder_that_cannot_be_written_leaves_nothing(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["audit", str(SEEDS), "--out", str(blocker / "out")]) == 2
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_the_seed_range_limits_the_search(tmp_path):
    write(tmp_path, "lab.txt", as_text(cells(ROLL, SEED)))
    (submission,) = audit_paths([tmp_path], seed_range=(100, 199)).submissions
    (document,) = submission.reproduction
    assert document.seed is None and "no seed in 100–199" in document.explanation


def test_the_audit_page_shows_the_audit_s_own_output_on_the_seed_documents(capsys):
    page = (Path(__file__).resolve().parents[3] / "docs" / "audit.md").read_text()
    block = page.split("<!-- audit-output -->\n```\n")[1].split("\n```\n<!-- /audit-output -->")[0]
    main(["audit", str(SEEDS), "--no-progress"])
    assert capsys.readouterr().out.rstrip("\n") == block
