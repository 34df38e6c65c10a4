"""No honest student accused: the course notebook's own code run for hypothesis-drawn rolls and
seeds, handed in in the shapes students hand it in (tests/support/audit_submissions.py `SHAPES`:
training in a function, everything in one cell, the weights drawn before the data, Part B
first, a Spanish write-up, epochs counted from 0, a RuntimeWarning in the output, labels such
as ``||dW_first|| =`` and ``GRI (run 1) =``, …). Each must come out clean, every figure it
prints read and reproduced; and the class shapes (a flat folder, a copied pair) must accuse
only the copy."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from audit_submissions import SHAPES, WRITE_UP_SHAPES, as_text, cells, shaped, write
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tinygrad_lab.lab.audit.report import class_csv, class_markdown
from tinygrad_lab.lab.audit.run import audit_paths
from tinygrad_lab.lab.rules import lab_config

rolls = st.from_regex(r"1023[0-9]{5}", fullmatch=True).filter(
    lambda roll: lab_config(roll).output_size is not None
)
# the Part A figures each shape prints (a write-up gives runs 1 and 2, a notebook run 3's too)
PRINTED = {"one_cell_two_runs": 6, "markdown": 9, "spanish": 9, "norms_md": 9}
PRINTED["notebook_and_write_up"] = 19


def audit_shape(folder: Path, roll: str, seed: int, shape: str, ipynb: bool):
    for name, text in shaped(roll, seed, shape, ipynb).items():
        write(folder, name, text)
    audit = audit_paths([folder])
    assert audit.errors == ()
    (submission,) = audit.submissions
    return submission


@pytest.mark.parametrize("shape", SHAPES)
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a shrink takes minutes
)
@given(roll=rolls, seed=st.integers(0, 999), ipynb=st.booleans())
def test_an_honest_submission_in_any_shape_is_clean(tmp_path_factory, shape, roll, seed, ipynb):
    ipynb = ipynb and shape not in WRITE_UP_SHAPES
    submission = audit_shape(tmp_path_factory.mktemp(shape), roll, seed, shape, ipynb)
    assert submission.findings == [], submission.findings
    assert submission.clean and set(submission.seeds) == {seed}, submission.reproduction
    rows = submission.sections()["reproduction"]
    assert len(rows) == PRINTED.get(shape, 10), [r.figure for r in rows]
    assert all(row.verdict == "reproduced" for row in rows)
    after = [row for row in submission.rules if row.figure == "hidden layers after the break"]
    assert all(row.verdict != "missing" for row in after)  # the notebook never prints it


def test_a_figure_whose_run_is_a_guess_says_which_run_it_matched(tmp_path):
    submission = audit_shape(tmp_path, "102300125", 7, "function", ipynb=False)
    rows = {row.figure: row for row in submission.sections()["reproduction"]}
    table = rows["run 3 loss, epoch 257"]  # the last cell's, read as run 1's: no loop there
    assert table.verdict == "reproduced" and "it is 3's" in table.note
    assert "run 1 ‖∇W_first‖" in rows and "run 2 GRI" in rows


def test_epochs_counted_from_0_say_so(tmp_path):
    submission = audit_shape(tmp_path, "102300125", 7, "epoch0", ipynb=False)
    rows = {row.figure: row for row in submission.sections()["reproduction"]}
    assert "counts epochs from 0" in rows["run 1 loss, epoch 100"].note


def test_weights_drawn_before_the_data_are_reproduced_in_that_order(tmp_path):
    submission = audit_shape(tmp_path, "102300125", 7, "weights_first", ipynb=False)
    assert "with the weights drawn before the data" in submission.reproduction[0].explanation


def test_a_flat_folder_keeps_a_file_whose_name_gives_another_roll_apart(tmp_path):
    # X's file, named by X's roll, whose code says Y's roll (a typo), beside Y's own file
    x, y = "102300125", "102300521"
    write(tmp_path, f"{y}.txt", as_text(cells(y, 40)))
    write(tmp_path, f"lab6_{x}.txt", as_text(cells(y, 41)))
    audit = audit_paths([tmp_path], workers=2)
    by_name = {s.name: s for s in audit.submissions}
    assert set(by_name) == {x, y}
    assert by_name[x].seeds == [41] and by_name[y].seeds == [40]
    assert by_name[y].clean, by_name[y].findings
    # X's file runs Y's roll: that is said (both rolls, and whose the file is), and X's rules
    # are what it is checked against; it is no longer merged into Y's, nor clean
    rolls = [r for r in by_name[x].findings if r.figure == "roll number"]
    assert rolls and all(r.verdict == "roll mismatch" and y in r.reported for r in rolls)
    assert all(f"this is roll {x}'s submission" in r.note for r in rolls)


def test_the_class_files_agree_on_each_student_s_finding_count(tmp_path):
    honest, copier = "102300125", "102300348"
    write(tmp_path / "ann", "lab.txt", as_text(cells(honest, 7)))
    copied = as_text(cells(honest, 7)).replace(honest, copier)
    write(tmp_path / "bob", "lab.txt", copied)
    audit = audit_paths([tmp_path], workers=2)
    table = class_markdown(audit)
    for row in csv.DictReader(io.StringIO(class_csv(audit))):
        line = next(line for line in table.splitlines() if f"| {row['name']} | " in line)
        assert line.rstrip(" |").endswith(f"| {row['findings']}"), (line, row)
