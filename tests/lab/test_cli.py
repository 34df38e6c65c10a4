"""The tinygrad-lab command: outputs, JSON, and one-line errors with exit status 2."""

import json
import os
import subprocess
import sys

import pytest

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress.compute import compute_lab

ROLL = "102303346"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_holds_every_reported_figure_as_numbers(capsys):
    code, out, _ = run(capsys, "lab", "--roll", ROLL, "--seed", "5", "--epochs", "30", "--json")
    assert code == 0
    results = json.loads(out)
    # one run's command checks λmax against the full Hessian ("hessian")
    expected = compute_lab(LabRun.from_roll(ROLL, 5, 30), ("a", "hessian", "b")).to_json()
    assert results == json.loads(json.dumps(expected))
    assert results["curvature"]["run1"]["hessian_check"]["agrees"]
    run1 = results["part_a"]["run1"]
    assert set(run1["losses"]) == {"1", "30"}
    assert isinstance(run1["gri"], float) and isinstance(run1["grad_norm_first"], float)
    assert results["part_b"]["manual_convolution"] == -70
    assert results["q2"]["effective_linear_layers"] == 1


def test_out_writes_report_json_csvs_and_plots(tmp_path, capsys):
    out = tmp_path / "lab"
    code, _, _ = run(capsys, "lab", "--roll", ROLL, "--epochs", "25", "--out", str(out))
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "report.md",
        "results.json",
        "loss_history_run1.csv",
        "loss_history_run2.csv",
        "loss_history_run3.csv",
        "loss_curves.png",
        "grad_norms.png",
    } <= names
    results = json.loads((out / "results.json").read_text())
    rows = (out / "loss_history_run2.csv").read_text().splitlines()
    assert rows[0] == "epoch,loss" and len(rows) == 26
    assert float(rows[-1].split(",")[1]) == results["part_a"]["run2"]["loss_history"][-1]
    # run 3, the notebook's last cell: as many epochs again, from where run 2 ended
    rows = (out / "loss_history_run3.csv").read_text().splitlines()
    assert (
        len(rows) == 26
        and [float(r.split(",")[1]) for r in rows[1:]] == results["part_a"]["run3"]["loss_history"]
    )
    report = (out / "report.md").read_text()
    assert f"{results['part_a']['run1']['gri']:.6g}" in report
    for name in ("run1", "run2", "run3"):  # each run's memory table, with its no_grad total
        memory = results["memory"][name]
        assert f"Total: {memory['total']:,} bytes" in report and memory["no_grad_total"] == 0
        assert memory["total"] == sum(memory["per_layer"].values()) > 0
    for png in ("loss_curves.png", "grad_norms.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_says_when_a_default_was_assumed(capsys):
    code, out, _ = run(capsys, "part-b", "--roll", "102303151")
    assert code == 0
    assert "Assumed defaults" in out and "assumed default: relu" in out


def test_spec_prints_the_table_and_a_roster_gives_one_csv_row_per_roll(tmp_path, capsys):
    code, out, _ = run(capsys, "spec", "--roll", ROLL)
    assert code == 0 and "hidden width" in out and "32436" in out
    roster = tmp_path / "roster.csv"
    roster.write_text("roll\n102303346\n102303151\n")
    code, out, _ = run(capsys, "spec", "--rolls", str(roster))
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 3 and lines[1].startswith("102303346,")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lab", "--roll", "12"], "at least three decimal digits"),
        (["lab", "--roll", "12x45"], "at least three decimal digits"),
        (["stress-test", "--roll", ROLL, "--epochs", "0"], "positive whole number"),
        (["stress-test", "--roll", ROLL, "--epochs", "-3"], "positive whole number"),
        (["stress-test", "--roll", ROLL, "--seeds", "9-3"], "reversed"),
        (["stress-test", "--roll", ROLL, "--seeds", ""], "bad seed range"),
        (["spec", "--roll", "ab1"], "at least three decimal digits"),
        (["lab"], "--roll"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unwritable_out_is_an_error_and_writes_nothing(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, out, err = run(capsys, "lab", "--roll", ROLL, "--out", str(blocker / "sub" / "dir"))
    assert code == 2 and "cannot write to --out" in err
    assert out == "" and blocker.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_module_and_console_script_run_as_a_subprocess():
    for command in ([sys.executable, "-m", "tinygrad_lab"], ["tinygrad-lab"]):
        ok = subprocess.run(command + ["spec", "--roll", ROLL], capture_output=True, text=True)
        assert ok.returncode == 0 and "hidden width" in ok.stdout
        bad = subprocess.run(command + ["lab", "--roll", "1"], capture_output=True, text=True)
        assert bad.returncode == 2
        assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr


@pytest.mark.needs_dot
def test_graph_command_draws_the_lab_network(tmp_path, capsys):
    import xml.etree.ElementTree as ET

    out = tmp_path / "graph.svg"
    code, stdout, _ = run(capsys, "graph", "--roll", ROLL, "--out", str(out), "--layers", "--grads")
    assert code == 0 and str(out) in stdout
    text = ET.parse(out).getroot().itertext()
    assert "0.weight (3×12)" in " ".join(text)


def test_graph_command_without_dot_is_one_line_and_keeps_the_dot_source(tmp_path, capsys):
    out = tmp_path / "graph.svg"
    env_path = os.environ["PATH"]
    os.environ["PATH"] = str(tmp_path)  # no dot here
    try:
        code, _, err = run(capsys, "graph", "--roll", ROLL, "--out", str(out))
    finally:
        os.environ["PATH"] = env_path
    assert code == 2 and "apt-get install graphviz" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    assert not out.exists()


def test_the_command_loads_graphviz_only_for_the_graph_command():
    code = (
        "import sys\n"
        "from tinygrad_lab.lab.cli import main\n"
        "assert main(['spec', '--roll', '102303346']) == 0\n"
        "assert main(['part-b', '--roll', '102303346', '--json']) == 0\n"
        "assert 'graphviz' not in sys.modules, 'graphviz was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_an_unexpected_error_is_not_passed_off_as_a_usage_error(monkeypatch, capsys):
    from tinygrad_lab.lab import compute

    def broken(run, parts):
        raise RuntimeError("a bug, not the user's mistake")

    monkeypatch.setattr(compute, "compute_lab", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["part-b", "--roll", ROLL])


def test_an_override_is_named_as_this_runs_choice_not_as_the_rolls_rule(capsys):
    argv = ["stress-test", "--roll", ROLL, "--activation", "tanh", "--epochs", "3"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "> **Overrides** (given for this run, in place of the roll's rules):" in out
    assert "> - activation: tanh by override (the rule gives relu)" in out
    assert "this roll needs width 12, 5 hidden layers" in out
    assert "relu (tanh here, by override) activations" in out
    assert "tanh activations" not in out
    code, out, _ = run(capsys, *argv, "--json")
    config = json.loads(out)["config"]
    assert config["activation"] == "tanh" and config["assumptions"] == []
    assert config["overrides"] == ["activation: tanh by override (the rule gives relu)"]
    # an override of a rule the documents leave open says the default it replaced
    code, out, _ = run(capsys, "stress-test", "--roll", "102303151", "--added-layers", "5",
                       "--epochs", "2")  # fmt: skip
    assert "structural break: 5 by override (the assumed default gives 3)" in out
    assert "3 (an assumed default: the documents leave it open; 5 here, by override)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["part-b", "--roll", ROLL, "--seeds", "0-1"], "unrecognized arguments: --seeds 0-1"),
        (["part-b", "--roll", ROLL, "--epochs", "5"], "unrecognized arguments: --epochs 5"),
        (["part-b", "--roll", ROLL, "--activation", "tanh"], "unrecognized arguments"),
        (["check", "--roll", ROLL, "--no-plots"], "unrecognized arguments: --no-plots"),
        (["spec", "--roll", ROLL, "--seed", "3"], "unrecognized arguments: --seed 3"),
        (["spec", "--roll", ROLL, "--workers", "2"], "unrecognized arguments: --workers 2"),
        (["graph", "--out", "g.svg"], "the following arguments are required: --roll"),
        (["spec", "--roll", ROLL, "--out", ""], "--out: expected a folder name, got ''"),
        (["lab", "--roll", ROLL, "--out", " "], "--out: expected a folder name"),
        (["spec", "--roll", ROLL, "--roll", "102303347"], "--roll is given twice"),
        (["lab", "--roll", ROLL, "--seed", "1", "--seed", "2"], "--seed is given twice"),
        (["lab", "--roll", ROLL, "--rolls", "r.csv"], "not allowed with argument --roll"),
    ],
)
def test_each_command_takes_only_the_options_it_uses(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing written, in the current folder either


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out == "tinygrad-lab 0.1.0\n"


def test_spec_json_is_one_object_with_numbers_as_numbers(capsys):
    code, out, _ = run(capsys, "spec", "--roll", ROLL, "--json")
    document = json.loads(out)
    assert code == 0 and list(document) == ["roll", "rules", "config"]
    rules = {rule["quantity"]: rule for rule in document["rules"]}
    assert rules["weight init"]["value"] == 1 / 7  # not the text "±1/7 (±0.142857)"
    assert rules["weight init"]["display"] == "±1/7 (±0.142857)"
    assert rules["output size"]["value"] == 30 and rules["learning rate"]["value"] == 0.008
    assert document["config"]["hidden_width"] == 12 and document["config"]["init_range"] == 1 / 7
    code, out, _ = run(capsys, "spec", "--roll", "016", "--json")  # 27/2 + 1: no whole size
    output_size = {r["quantity"]: r for r in json.loads(out)["rules"]}["output size"]
    assert output_size["value"] is None and output_size["display"].endswith("= 14.5")


def test_part_b_of_a_roster_needs_no_pool(tmp_path, capsys):
    roster = tmp_path / "class.csv"
    roster.write_text("102303346\n102303151\n")
    code, out, _ = run(capsys, "part-b", "--rolls", str(roster), "--out", str(tmp_path / "o"))
    assert code == 0 and "wrote 2 report folders" in out
    report = (tmp_path / "o" / "102303151" / "report.md").read_text()
    assert "Part B's figures depend on the roll number only" in report and "seed 0" not in report


def test_the_graph_has_a_title(tmp_path):
    from tinygrad_lab.lab.stress.graph import lab_graph

    source = lab_graph(ROLL, seed=2).source
    assert "Lab 6, roll 102303346 (seed 2): run 1's network 3 → 12 × 5 → 1, relu" in source
