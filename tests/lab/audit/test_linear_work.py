"""The audit's work grows linearly with a notebook's cells: each cell added costs the same
number of lines of the audit's code run, however many cells there are already. Work is
counted (Python's line events in tinygrad_lab/lab/audit/), not timed: a shared machine's
load changes the time, not the count. The seed search's training, the same for any number of
cells, runs once and is replayed, so that only the audit's own lines are counted."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from audit_submissions import as_ipynb, as_text, cells, write
from notebook_oracle import notebook_lab

import tinygrad_lab.lab.audit.reproduce as reproduce
from tinygrad_lab.lab.audit.run import audit_paths

AUDIT = str(Path(reproduce.__file__).parent)
ROLL, SEED = "102300125", 7
SIZES = (60, 120, 240)  # cells added: the work each added cell costs must not grow


def _notebook(added: int) -> list:
    """The notebook with ``added`` cells more in Part A: prose, a variable printed, and a
    printed loss of run 1 (the notebook's own value, so the audit finds it reproduced)."""
    with np.errstate(all="ignore"):
        history = notebook_lab(ROLL, SEED)[0]["loss_history"]
    more = []
    for k in range(added):
        if k % 3 == 0:
            more.append(("markdown", f"Note {k}: the loss goes down.", ""))
        elif k % 3 == 1:
            more.append(("code", f"step_{k} = {k}\nprint('step', step_{k})", f"step {k}"))
        else:
            epoch = k % 400 + 1
            source = f'print("Loss Epoch{epoch}:", loss_record[{epoch}])'
            more.append(("code", source, f"Loss Epoch{epoch}: {float(history[epoch - 1])!r}"))
    notebook = cells(ROLL, SEED)
    return notebook[:5] + more + notebook[5:]


def _lines_run(folder: Path) -> int:
    """The lines of the audit's own modules run to audit ``folder``."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        count += event == "line"
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(AUDIT) else None

    sys.settrace(calls)
    try:
        audit = audit_paths([folder], seed_range=(SEED, SEED))
    finally:
        sys.settrace(None)
    (submission,) = audit.submissions
    assert submission.clean and submission.seeds == [SEED], submission.findings
    return count


@pytest.fixture
def trained_once(monkeypatch):
    """The seed search's training, run once and replayed (it does not depend on cells)."""
    done: dict = {}
    train = reproduce.train_seeds

    def replay(setting, seeds, order):
        key = (repr(setting), tuple(seeds), order)
        if key not in done:
            done[key] = train(setting, seeds, order)
        return done[key]

    monkeypatch.setattr(reproduce, "train_seeds", replay)


@pytest.mark.parametrize("form", ["ipynb", "txt"])
def test_each_cell_added_costs_the_same_work(tmp_path, trained_once, form):
    work = []
    for added in (0, *SIZES):
        notebook = _notebook(added)
        text = as_ipynb(notebook) if form == "ipynb" else as_text(notebook)
        work.append(_lines_run(write(tmp_path / str(added), f"lab.{form}", text).parent))
    per_cell = [
        (after - before) / (big - small)
        for (small, before), (big, after) in zip(
            zip((0, *SIZES), work, strict=True),
            zip(SIZES, work[1:], strict=True),
            strict=False,
        )
    ]
    # linear: the same per cell (up to the odd line); quadratic would double it each time
    assert max(per_cell) <= 1.1 * min(per_cell), per_cell
