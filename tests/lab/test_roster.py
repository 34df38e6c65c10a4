"""Rosters as instructors keep them: other columns kept beside the roll, a roll column that is
not the first, comma, tab and semicolon files and .xlsx workbooks, every bad row reported and
skipped, a repeated roll noted."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.pool import DuplicateWarning, SweepError
from tinygrad_lab.lab.roster import Roster, RosterWarning

CLASS = [("102303346", "Ann Lee", "ann@uni.edu"), ("102303151", "Bob Roy", "bob@uni.edu")]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(path, rows, separator=","):
    with open(path, "w", newline="") as handle:
        csv.writer(handle, delimiter=separator).writerows(rows)
    return path


# ------------------------------------------------------------------------------ reading
cell_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs")), max_size=12
)
roster_rows = st.lists(
    st.tuples(st.from_regex(r"1023[0-9]{5}", fullmatch=True), cell_text, cell_text),
    min_size=1,
    max_size=8,
    unique_by=lambda row: row[0],
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=roster_rows,
    separator=st.sampled_from([",", "\t", ";"]),
    header=st.sampled_from(["roll", "Roll Number", "ROLL NO.", "roll_no", "Roll No", "rollno"]),
    at=st.integers(0, 2),
)
def test_any_separator_and_roll_column_reads_every_row_with_its_other_columns(
    tmp_path, rows, separator, header, at
):
    """Each row's roll, and its other cells by their header, whichever of the three separators
    the file uses and wherever the roll column is (found from its header)."""
    others = ["Name", "Email"]
    names = others[:at] + [header] + others[at:]
    table = [names] + [[*row[1:][:at], row[0], *row[1:][at:]] for row in rows]
    roster = Roster.read(write(tmp_path / "class.csv", table, separator))
    assert roster.rolls == [roll for roll, _, _ in rows]
    assert roster.roll_column == header and roster.columns == tuple(others)
    for roll, name, email in rows:
        assert roster.get(roll).fields == {"Name": name.strip(), "Email": email.strip()}
        assert roster.cells(roll) == [name.strip(), email.strip()]
        assert roster.name(roll) == name.strip()


def test_a_semicolon_file_with_decimal_commas_is_read_by_semicolon(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text("Roll;Name;Mark\n102303346;Ann;7,5\n102303151;Bob;8,25\n")
    roster = Roster.read(path)
    assert roster.rolls == ["102303346", "102303151"]
    assert roster.get("102303151").fields == {"Name": "Bob", "Mark": "8,25"}


def test_a_comma_file_with_a_quoted_semicolon_is_read_by_comma(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text('roll,name\n102303346,"Lee; Ann"\n102303151,"Roy; Bob"\n')
    assert Roster.read(path).name("102303346") == "Lee; Ann"


def test_a_row_with_a_semicolon_and_one_without_is_a_semicolon_file(tmp_path):
    # before rosters kept their columns, "102303888;Ann" was one bad first cell
    path = tmp_path / "class.csv"
    path.write_text("102303888;Ann\n102303346\n")
    roster = Roster.read(path)
    assert roster.rolls == ["102303888", "102303346"]
    assert roster.get("102303888").fields == {"column 2": "Ann"}
    assert roster.get("102303346").fields == {"column 2": ""}


@pytest.mark.parametrize(
    ("named", "rolls"),
    [("ID", ["102303346", "102303151"]), ("id", ["102303346", "102303151"]), ("3", ["7", "8"])],
)
def test_the_roll_column_can_be_named_by_header_or_number(tmp_path, named, rolls):
    path = write(tmp_path / "c.csv", [["Name", "ID", "Seat"], ["Ann", CLASS[0][0], "007"],
                                      ["Bob", CLASS[1][0], "008"]])  # fmt: skip
    if named == "3":  # the seat column: a number for a roll column is its position
        rolls = ["007", "008"]
    roster = Roster.read(path, roll_column=named)
    assert roster.rolls == rolls


def test_a_named_roll_column_that_is_not_there_says_which_are(tmp_path):
    path = write(tmp_path / "c.csv", [["Name", "ID"], ["Ann", CLASS[0][0]]])
    with pytest.raises(SweepError, match=r"no column 'Roll' in row 1 \(its cells: 'Name', 'ID'\)"):
        Roster.read(path, roll_column="Roll")


def test_a_roster_without_a_roll_header_hints_at_roll_column(tmp_path):
    path = write(tmp_path / "c.csv", [["Name", "ID"], ["Ann", CLASS[0][0]], ["Bob", CLASS[1][0]]])
    with pytest.warns(RosterWarning), pytest.raises(SweepError, match="--roll-column"):
        Roster.read(path)
    assert Roster.read(path, roll_column="ID").rolls == [CLASS[0][0], CLASS[1][0]]


def test_a_headerless_roster_names_its_other_columns_by_position(tmp_path):
    roster = Roster.read(write(tmp_path / "c.csv", [list(row) for row in CLASS]))
    assert roster.roll_column == "column 1" and roster.columns == ("column 2", "column 3")
    assert roster.cells(CLASS[1][0]) == list(CLASS[1][1:])


def test_excel_s_byte_order_mark_and_windows_1252_are_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffRoll No,Name\n102303346,José\n".encode())
    assert Roster.read(path).name("102303346") == "José"
    path = tmp_path / "cp1252.csv"
    path.write_bytes("Roll No;Name\n102303346;Zoë\n".encode("cp1252"))
    assert Roster.read(path).name("102303346") == "Zoë"


def test_first_and_last_name_columns_make_the_name(tmp_path):
    rows = [["First name", "Last Name", "roll"], ["Ann", "Lee", CLASS[0][0]]]
    roster = Roster.read(write(tmp_path / "c.csv", rows))
    assert roster.name(CLASS[0][0]) == "Ann Lee" and roster.name("999999") == ""


def test_a_column_an_output_already_has_is_prefixed(tmp_path):
    roster = Roster.read(
        write(tmp_path / "c.csv", [["roll", "Name", "seed"], [CLASS[0][0], "A", "x"]])
    )
    assert roster.header(["roll", "seed", "verdict"]) == ["Name", "roster seed"]


def xlsx(path, rows):
    import openpyxl  # (the test extra's: the .xlsx reader's own dependency, never skipped)

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_an_xlsx_roster_reads_as_its_csv_does(tmp_path):
    # a roll typed into a cell is a number: it reads as its digits, not 102303346.0
    rows = [["Name", "Roll Number", "Email"], ["Ann Lee", 102303346, "ann@uni.edu"],
            [None, None, None], ["Bob Roy", "102303151", "bob@uni.edu"],
            ["Cy", 12.5, None]]  # fmt: skip
    with pytest.warns(RosterWarning, match=r"class.xlsx, row 5: bad roll number '12.5'"):
        roster = Roster.read(xlsx(tmp_path / "class.xlsx", rows))
    assert roster.rolls == ["102303346", "102303151"]
    assert [r.row for r in roster] == [2, 4]  # the spreadsheet's own row numbers
    assert roster.get("102303151").fields == {"Name": "Bob Roy", "Email": "bob@uni.edu"}
    text = [[("" if c is None else str(c)) for c in row] for row in rows[:4]]
    from_csv = Roster.read(write(tmp_path / "class.csv", text))
    assert [(r.roll, r.fields) for r in from_csv] == [(r.roll, r.fields) for r in roster]


def test_an_xlsx_roster_without_openpyxl_says_how_to_get_it(tmp_path, monkeypatch):
    path = xlsx(tmp_path / "class.xlsx", [["roll"], [102303346]])
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(SweepError, match=r"needs openpyxl: pip install 'tinygrad_lab\[lab\]'"):
        Roster.read(path)


def test_a_file_that_is_not_a_roster_is_one_clear_error(tmp_path):
    broken = tmp_path / "class.xlsx"
    broken.write_text("roll\n102303346\n")
    with pytest.raises(SweepError, match="cannot read roster .* as an .xlsx workbook"):
        Roster.read(broken)
    binary = tmp_path / "class.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(SweepError, match="it is not text"):
        Roster.read(binary)
    with pytest.raises(SweepError, match="save it as one of those"):
        Roster.read(tmp_path / "old.xls")


# ------------------------------------------------------------------------------ bad rows
BAD = ["roll,name", "102303346,Ann", "1023O3888,Typo", ",Blank", "12,Short", "102303151,Bob",
       "102303346,Ann again", "1.02303E+08,Excel"]  # fmt: skip


def test_every_bad_row_is_reported_and_skipped_and_a_repeat_counts_once(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text("\n".join(BAD) + "\n")
    with pytest.warns(UserWarning) as caught:
        roster = Roster.read(path)
    assert roster.rolls == ["102303346", "102303151"]
    bad = [str(w.message) for w in caught if w.category is RosterWarning]
    assert bad == list(roster.skipped) and len(bad) == 4
    for line, row, what in zip(bad, (3, 4, 5, 8), ("'1023O3888'", "column 'roll'", "'12'",
                                                   "'1.02303E+08'"), strict=True):  # fmt: skip
        assert line.startswith(f"{path}, row {row}: ") and what in line
        assert "at least three decimal digits" in line and line.endswith("; skipped")
    (repeat,) = [str(w.message) for w in caught if w.category is DuplicateWarning]
    assert repeat == f"{path}, row 7: roll 102303346 repeats row 2; it runs once"
    assert roster.repeated == {"102303346": (2, 7)} and roster.name("102303346") == "Ann"


def test_the_command_reports_every_bad_row_on_stderr_and_runs_the_good_ones(tmp_path, capsys):
    path = tmp_path / "class.csv"
    path.write_text("\n".join(BAD) + "\n")
    code, out, err = run(capsys, "spec", "--rolls", str(path))
    lines = err.splitlines()
    assert code == 0 and len(lines) == 5
    kinds = [line.split(": ")[1] for line in lines]  # in the file's order
    assert kinds == ["warning"] * 3 + ["note", "warning"]
    assert [r["roll"] for r in csv.DictReader(io.StringIO(out))] == ["102303346", "102303151"]


# ------------------------------------------------------------------------------ outputs
def class_roster(tmp_path, separator=","):
    rows = [["Email", "Roll No.", "Name"]] + [[e, r, n] for r, n, e in CLASS]
    return write(tmp_path / "class.csv", rows, separator)


def test_spec_keeps_the_roster_columns_beside_the_roll(tmp_path, capsys):
    roster = class_roster(tmp_path, "\t")
    code, out, _ = run(capsys, "spec", "--rolls", str(roster), "--out", str(tmp_path / "o"))
    printed = list(csv.reader(io.StringIO(out)))
    assert code == 0 and printed[0][:3] == ["roll", "Email", "Name"]
    assert [row[:3] for row in printed[1:]] == [[r, e, n] for r, n, e in CLASS]
    with open(tmp_path / "o" / "spec.csv", newline="") as handle:
        assert list(csv.reader(handle)) == printed
    code, out, _ = run(capsys, "spec", "--rolls", str(roster), "--json")
    assert [d["roster"] for d in json.loads(out)] == [{"Email": e, "Name": n} for _, n, e in CLASS]


def test_a_class_summary_keeps_the_roster_columns_beside_the_roll(tmp_path, capsys):
    roster = class_roster(tmp_path, ";")
    out = tmp_path / "o"
    code, printed, _ = run(capsys, "part-b", "--rolls", str(roster), "--out", str(out), "--json")
    assert code == 0 and [d["roster"]["Name"] for d in json.loads(printed)] == [
        "Ann Lee",
        "Bob Roy",
    ]
    with open(out / "class_summary.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:4] == ["roll", "Email", "Name", "seed"]
    assert [row[:3] for row in rows[1:]] == [[r, e, n] for r, n, e in CLASS]


def test_the_roll_column_option_reaches_the_roster(tmp_path, capsys):
    path = write(tmp_path / "c.csv", [["Name", "ID"], ["Ann", CLASS[0][0]], ["Bob", CLASS[1][0]]])
    code, out, err = run(capsys, "spec", "--rolls", str(path), "--roll-column", "id")
    assert code == 0 and err == ""
    assert [r["roll"] for r in csv.DictReader(io.StringIO(out))] == [CLASS[0][0], CLASS[1][0]]
