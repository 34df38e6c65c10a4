"""Q4 as a spec comparison: `spec --rolls roster.csv --against R` marks every rule value where a
student's configuration differs from roll R's, with a count per student."""

import csv
import io
import json

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import lab_config
from tinygrad_lab.lab.stress.spec_against import compare_specs

EXAMPLE = "102303346"


def test_each_differing_value_is_found_and_counted():
    example = lab_config(EXAMPLE)
    same, other_a, other_c = (lab_config(r) for r in (EXAMPLE, "102303347", "102303446"))
    comparisons = compare_specs([same, other_a, other_c], example)
    assert comparisons[0].differences == 0
    by_quantity = {r.quantity: r for r in comparisons[1].rules}
    # a = 7 instead of 6: width, init range, image side, conv filters and what follows from them
    differing = {q for q, r in by_quantity.items() if r.differs}
    assert differing == {
        "hidden width",
        "weight init",
        "image side N",
        "dense parameters",
        "conv filters K",
        "conv parameters",
        "output size",
    }
    assert (by_quantity["hidden width"].value, by_quantity["hidden width"].against) == (13, 12)
    assert comparisons[1].differences == 7
    # c = 4 instead of 3: the learning rate and the conv filter size (c mod 2) change
    differing_c = {r.quantity for r in comparisons[2].rules if r.differs}
    assert {"learning rate", "conv filter size F"} <= differing_c


def test_the_command_marks_values_and_counts_per_student(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("roll\n102303346\n102303347\n102303355\n")
    out = tmp_path / "out"
    argv = ["spec", "--rolls", str(roster), "--against", EXAMPLE, "--out", str(out)]
    assert main(argv) == 0
    table = capsys.readouterr().out
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if "|" in line}
    assert "| 0 |" in rows["102303346"] and "**" not in rows["102303346"]
    assert "| 7 |" in rows["102303347"] and "**13**" in rows["102303347"]
    assert "**6**" in rows["102303355"]  # b = 5: 4 + (5 mod 3) = 6 hidden layers
    assert f"{EXAMPLE} (against)" in table
    written = list(csv.DictReader(io.StringIO((out / "spec_against.csv").read_text())))
    counts = {}
    for row in written:
        counts[row["roll"]] = counts.get(row["roll"], 0) + int(row["differs"])
    assert counts == {"102303346": 0, "102303347": 7, "102303355": 9}
    assert main([*argv[:-2], "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [d["differences"] for d in document] == [0, 7, 9]


def test_a_bad_against_roll_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "never"
    code = main(["spec", "--roll", EXAMPLE, "--against", "12", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "bad roll number '12'" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
