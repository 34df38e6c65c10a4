"""The command line's error paths as one table: arguments (and a fault, where one is injected)
→ exit status, the one stderr line, and the files left behind. Each row runs in an empty
folder of its own; a row that needs a real process (Ctrl-C to a process group, a closed
stdout) runs the command as one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cli_faults import FullDisk

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.output import files

ROLL = "102303346"
QUICK = ["--epochs", "3"]
LAB = ["lab", "--roll", ROLL, *QUICK]
RUN1 = ["roll,x", "102303346,1"]  # a header row and a roll


def roster(*rows: str) -> Callable:
    def write(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        (folder / "r.csv").write_text("\n".join(rows) + "\n")

    return write


def a_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "a-file").write_text("not a folder")


def no_matplotlib(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def full_disk(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files.os, "fdopen", FullDisk(full=2))


def read_only_report(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "d").mkdir()
    (folder / "d" / "report.md").write_text("mine")
    (folder / "d" / "report.md").chmod(0o444)


def no_dot(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")


def nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pass


@dataclass(frozen=True)
class Case:
    argv: list[str]
    code: int
    stderr: str | None  # the one line stderr holds (a part of it), or None: stderr is empty
    left: list[str] = field(default_factory=list)  # everything in the folder afterwards
    setup: Callable = nothing
    how: str = "call"  # "call": main() here; "sigint", "closed stdout": a process
    marks: tuple = ()  # e.g. pytest.mark.needs_dot: skipped without `dot` (failed in CI)


LAB_FILES = [
    "loss_history_run1.csv",
    "loss_history_run2.csv",
    "loss_history_run3.csv",
    "report.md",
    "results.json",
]
CASES = {
    "roll too short": Case(["lab", "--roll", "12"], 2, "bad roll number '12'"),
    "roll not digits": Case(["lab", "--roll", "12x45"], 2, "at least three decimal digits"),
    "no roll": Case(["lab"], 2, "give --roll R"),
    "epochs given twice": Case([*LAB, "--epochs", "5"], 2, "--epochs is given twice"),
    "epochs not positive": Case(["lab", "--roll", ROLL, "--epochs", "0"], 2, "positive whole"),
    "epochs above the maximum": Case(
        ["lab", "--roll", ROLL, "--epochs", "100001"], 2, "must be at most 100,000"
    ),
    "seed range reversed": Case([*LAB, "--seeds", "9-3"], 2, "it is reversed (9 > 3)"),
    "seed range empty": Case([*LAB, "--seeds", ""], 2, "bad seed range ''"),
    "roster missing": Case(["lab", "--rolls", "r.csv", "--out", "o"], 2, "cannot read roster"),
    "roster of a header only": Case(
        ["lab", "--rolls", "r.csv", "--out", "o", *QUICK],
        2,
        "error: roster r.csv holds no roll number",
        ["r.csv"],
        roster("roll", ""),
    ),
    "roster without the named roll column": Case(
        ["lab", "--rolls", "r.csv", "--roll-column", "Roll", "--out", "o", *QUICK],
        2,
        "roster r.csv has no column 'Roll' in row 1 (its cells: 'Name', 'ID')",
        ["r.csv"],
        roster("Name,ID", "Ann,102303346"),
    ),
    "--roll-column without a roster": Case(
        [*LAB, "--roll-column", "ID"], 2, "--roll-column names a column of the roster"
    ),
    "roster without --out": Case(
        ["lab", "--rolls", "r.csv", *QUICK], 2, "--rolls needs --out", ["r.csv"], roster(*RUN1)
    ),
    "option the command does not take": Case(
        ["part-b", "--roll", ROLL, "--seeds", "0-1"], 2, "unrecognized arguments: --seeds"
    ),
    "option given twice": Case([*LAB, "--roll", "102303347"], 2, "--roll is given twice"),
    "empty --out": Case([*LAB, "--out", ""], 2, "expected a folder name, got ''"),
    "--out inside a file": Case(
        [*LAB, "--out", "a-file/sub"], 2, "cannot write to --out a-file/sub", ["a-file"], a_file
    ),
    "plots without matplotlib": Case(
        [*LAB, "--out", "d"], 2, "or pass --no-plots", setup=no_matplotlib
    ),
    "unreachable scheduler": Case(
        [*LAB, "--seeds", "0-1", "--scheduler", "tcp://127.0.0.1:9"], 2, "cannot reach the Dask"
    ),
    "disk full": Case(
        [*LAB, "--out", "d", "--no-plots"],
        2,
        "cannot write d/results.json: No space left on device",
        setup=full_disk,
    ),
    "existing read-only file": Case(
        [*LAB, "--out", "d", "--no-plots"],
        2,
        "cannot write d/report.md: the existing file is read-only",
        ["d", "d/report.md"],
        read_only_report,
    ),
    "graph without dot": Case(
        ["graph", "--roll", ROLL, "--out", "g.svg"],
        2,
        "apt-get install graphviz",
        ["g.dot"],
        no_dot,
    ),
    "explore: the page is written": Case(
        ["explore", "--roll", ROLL, "--seed", "1", "--epoch", "2", "--out", "page.html"],
        0,
        None,
        ["page.html"],
        marks=(pytest.mark.needs_dot,),
    ),
    "explore without dot": Case(
        ["explore", "--roll", ROLL, "--seed", "1", "--epoch", "2", "--out", "page.html"],
        2,
        "explore: graphviz's `dot` program was not found on PATH",
        setup=no_dot,
    ),
    "explore: a bad roll": Case(["explore", "--roll", "12", "--out", "p.html"], 2, "bad roll"),
    "explore: epoch 0": Case(
        ["explore", "--roll", ROLL, "--epoch", "0", "--out", "p.html"], 2, "--epoch: must be"
    ),
    "explore: an epoch past run 1": Case(
        ["explore", "--roll", ROLL, "--epoch", "401", "--out", "p.html"], 2, "to 400 (run 1"
    ),
    "explore: run 2 at a chosen depth is written": Case(
        ["explore", "--roll", ROLL, "--run", "2", "--depth", "2", "--epoch", "2"]
        + ["--out", "page.html"],
        0,
        None,
        ["page.html"],
        marks=(pytest.mark.needs_dot,),
    ),
    "explore: run 4": Case(
        ["explore", "--roll", ROLL, "--run", "4", "--out", "p.html"],
        2,
        "--run must be 1 (before the structural break), 2 (after it: 3 hidden layers added) or "
        "3 (run 2's network trained on), got 4",
    ),
    "explore: depth 0": Case(
        ["explore", "--roll", ROLL, "--run", "2", "--depth", "0", "--out", "p.html"],
        2,
        "--depth must be a whole number >= 1 (run 1's hidden layers; roll 102303346's is 5), got 0",
    ),
    "explore: an epoch past run 2": Case(
        ["explore", "--roll", ROLL, "--run", "2", "--epoch", "401", "--out", "p.html"],
        2,
        "to 400 (run 2's last epoch), got 401",
    ),
    "explore: not an .html file": Case(
        ["explore", "--roll", ROLL, "--out", "p.txt"], 2, "must end in .html"
    ),
    "explore: no such folder": Case(
        ["explore", "--roll", ROLL, "--out", "nowhere/p.html"], 2, "does not exist"
    ),
    "check after divergence": Case(
        ["check", "--roll", "102300990", "--activation", "identity", "--epochs", "6", "--out", "d"],
        1,
        None,
        ["d", "d/check.json"],
    ),
    "repeated seed": Case(
        [*LAB, "--seeds", "0,0", "--workers", "1", "--no-progress"],
        0,
        "note: --seeds 0,0: seed 0 given more than once; each runs once (1 seeds)",
    ),
    "Ctrl-C to a sweep on a process pool": Case(
        ["stress-test", "--roll", "102303888", "--epochs", "20000", "--seeds", "0-19"]
        + ["--workers", "2", "--out", "sw", "--no-progress"],
        130,
        "tinygrad-lab: interrupted",
        how="sigint",
    ),
    "closed stdout (| head)": Case(
        [*LAB, "--out", "d", "--no-plots"],
        141,
        None,
        ["d", *(f"d/{name}" for name in LAB_FILES)],
        how="closed stdout",
    ),
}


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except FileNotFoundError:
        return []


def _as_a_process(case: Case, folder: Path) -> tuple[int, str]:
    command = [sys.executable, "-m", "tinygrad_lab", *case.argv]
    child = subprocess.Popen(
        command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    if case.how == "closed stdout":
        child.stdout.close()  # before the command prints: every print meets a closed pipe
        return child.wait(timeout=120), child.stderr.read()
    deadline = time.monotonic() + 60
    while len(_children(child.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)  # the workers are well into their runs
    start = time.monotonic()
    os.killpg(child.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    _, err = child.communicate(timeout=60)
    assert time.monotonic() - start < 5, "one Ctrl-C did not stop the sweep promptly"
    return child.returncode, err


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=case.marks, id=name) for name, case in CASES.items()]
)
def test_error_paths(name, tmp_path, monkeypatch, capsys):
    case = CASES[name]
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    case.setup(folder, monkeypatch)
    if case.how == "call":
        code = main(case.argv)
        err = capsys.readouterr().err
    else:
        code, err = _as_a_process(case, folder)
    assert code == case.code
    if case.stderr is None:
        assert err == ""
    else:
        assert len(err.splitlines()) == 1 and case.stderr in err, err
    assert "Traceback" not in err
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert left == sorted(case.left)
