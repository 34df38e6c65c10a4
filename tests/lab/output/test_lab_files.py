"""Every file is written whole or not at all: staged under a temporary name in its folder and
renamed once all are staged, after every figure is computed; a write failure is one line and
exit 2; the --out folder is made only when there is something to put in it."""

import json
import subprocess
import sys

import pytest
from cli_faults import FullDisk

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.output import files
from tinygrad_lab.lab.output.files import OutputError, OutputFiles
from tinygrad_lab.lab.stress import compute

ROLL = "102303346"
LAB = ["lab", "--roll", ROLL, "--epochs", "5"]


def everything_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_full_disk_is_one_line_exit_2_and_leaves_no_file_nor_folder(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(
        files.os, "fdopen", FullDisk(full=2)
    )  # report.md is written, results.json not
    out = tmp_path / "d"
    assert main([*LAB, "--out", str(out), "--no-plots"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing printed as if it had worked
    assert captured.err == (
        f"tinygrad-lab: error: cannot write {out / 'results.json'}: No space left on device\n"
    )
    assert everything_under(tmp_path) == []


def test_a_failed_write_leaves_the_files_of_an_earlier_run_as_they_were(tmp_path, monkeypatch):
    out = tmp_path / "d"
    assert main([*LAB, "--out", str(out), "--no-plots", "--seed", "1"]) == 0
    before = {name: (out / name).read_bytes() for name in everything_under(out)}
    monkeypatch.setattr(files.os, "fdopen", FullDisk(full=3))
    assert main([*LAB, "--out", str(out), "--no-plots", "--seed", "2"]) == 2
    assert {name: (out / name).read_bytes() for name in everything_under(out)} == before


def test_a_read_only_existing_file_is_not_replaced_and_nothing_else_is(tmp_path, capsys):
    out = tmp_path / "d"
    out.mkdir()
    (out / "report.md").write_text("mine")
    (out / "report.md").chmod(0o444)
    assert main([*LAB, "--out", str(out), "--no-plots"]) == 2
    err = capsys.readouterr().err
    message = f"cannot write {out / 'report.md'}: the existing file is read-only"
    assert err == f"tinygrad-lab: error: {message}\n"
    assert everything_under(out) == ["report.md"] and (out / "report.md").read_text() == "mine"


def test_the_out_folder_is_not_made_before_the_figures_are_computed(tmp_path, monkeypatch):
    out = tmp_path / "a" / "b"
    real = compute.compute_lab

    def compute_and_look(run, parts):
        assert not (tmp_path / "a").exists(), "--out was made before there was anything in it"
        return real(run, parts)

    monkeypatch.setattr(compute, "compute_lab", compute_and_look)
    assert main([*LAB, "--out", str(out), "--no-plots"]) == 0
    assert "report.md" in everything_under(out)
    assert not [p for p in everything_under(tmp_path) if p.endswith(".tmp")]


def test_staged_files_and_the_folders_made_for_them_go_on_any_exception(tmp_path):
    with pytest.raises(KeyboardInterrupt), OutputFiles() as staged:
        staged.write(tmp_path / "new" / "deeper" / "a.txt", "a")
        staged.write(tmp_path / "new" / "b.bin", b"b")
        raise KeyboardInterrupt
    assert everything_under(tmp_path) == []
    with OutputFiles() as staged:
        staged.write(tmp_path / "x" / "a.txt", "a")
    assert staged.written == [tmp_path / "x" / "a.txt"] and everything_under(tmp_path) == [
        "x",
        "x/a.txt",
    ]


def test_an_out_that_is_a_file_or_an_empty_name_is_refused_before_any_work(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="is not a folder"):
        files.check_out(tmp_path / "f" / "sub")
    with pytest.raises(OutputError, match="needs a folder name"):
        files.check_out("")


def test_missing_matplotlib_is_said_before_computing_and_names_no_plots(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails

    def must_not_run(run, parts):
        raise AssertionError("computed before saying that plots cannot be drawn")

    monkeypatch.setattr(compute, "compute_lab", must_not_run)
    assert main([*LAB, "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "plots need matplotlib" in err and "--no-plots" in err
    assert everything_under(tmp_path) == []


def test_a_closed_stdout_is_no_traceback_and_the_files_are_written(tmp_path):
    out = tmp_path / "d"
    command = [sys.executable, "-m", "tinygrad_lab", *LAB, "--out", str(out), "--no-plots"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # as `| head` does once it has its lines
    _, err = child.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert err == b"" and child.returncode == 141
    assert json.loads((out / "results.json").read_text())["roll"] == ROLL


def test_a_folder_in_the_place_of_a_file_stops_every_rename(tmp_path):
    (tmp_path / "b.txt").mkdir()
    with pytest.raises(OutputError, match="b.txt: it is a folder"), OutputFiles() as staged:
        staged.write(tmp_path / "a.txt", "a")
        staged.write(tmp_path / "b.txt", "b")
    assert everything_under(tmp_path) == ["b.txt"]  # a.txt was not renamed into place either
