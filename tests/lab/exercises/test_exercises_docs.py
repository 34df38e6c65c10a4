"""docs/exercises.md: its commands and code run, in order, as a reader would paste them, and
what it says they produce is what they produce."""

from __future__ import annotations

import csv
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.exercises.catalog import EXERCISES, SETS

PAGE = Path(__file__).resolve().parents[3] / "docs" / "exercises.md"


def test_the_pages_commands_and_code_run_in_order(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```(bash|py)\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert [kind for kind, _ in blocks] == [
        "bash",
        "py",
        "bash",
    ]  # (py: shown on the site, run here)
    for kind, block in blocks:
        if kind == "py":
            exec(compile(block, str(PAGE), "exec"), {})  # noqa: S102
            continue
        for line in block.strip().splitlines():
            if line.startswith("tinygrad-lab "):
                assert main(shlex.split(line)[1:]) == 0, line
                printed = capsys.readouterr().out
                if line.startswith("tinygrad-lab exercises grade hw"):  # one: its report
                    assert printed.startswith("# Exercises: hw\n")
                elif "--class" in line:  # a class: grades.csv
                    assert printed == (tmp_path / "grades" / "grades.csv").read_text()
            else:
                subprocess.run(line, shell=True, check=True)  # noqa: S602  (the page's own)
    report = (tmp_path / "grades" / "ada.md").read_text()
    shown = re.search(r"```text\n(.*?)```", PAGE.read_text(), flags=re.S).group(1)
    for line in shown.strip().splitlines():  # the page's excerpt, "..." for the numbers
        pattern = re.escape(line).replace(re.escape("..."), ".*")
        assert re.search(pattern, report), line
    rows = list(csv.DictReader((tmp_path / "grades" / "grades.csv").open()))
    assert [r["student"] for r in rows] == ["ada", "bob"]
    assert list(rows[0]) == [
        "student",
        "unbroadcast",
        "visit",
        "walk",
        "commit",
        "mul",
        "total",
        "possible",
    ]
    graded = json.loads((tmp_path / "grades" / "grades.json").read_text())
    assert graded[0]["exercises"][-1]["failure"]["case"] == 1
    assert json.loads((tmp_path / "hw" / "exercises.json").read_text())["exercises"][-1] == "mul"


def test_the_pages_table_lists_every_set_and_exercise() -> None:
    text = PAGE.read_text()
    for name, members in SETS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        assert all(f"`{m}`" in row for m in members), name
    assert {e.set for e in EXERCISES} == set(SETS)


@pytest.mark.parametrize("claim", ["RLIMIT_AS", "2 GiB"])
def test_the_pages_limits_are_the_graders(claim: str) -> None:
    from tinygrad_lab.lab.exercises import runner, sandbox

    assert claim in PAGE.read_text()
    assert (
        sandbox.Limits().memory_bytes == 2 << 30
        and "RLIMIT_AS" in Path(runner.__file__).read_text()
    )
