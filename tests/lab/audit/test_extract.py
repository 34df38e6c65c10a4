"""`audit.extract`: the two real submissions as they are, then generated ones in every format."""

from __future__ import annotations

import itertools
import json
import re
import tempfile
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tinygrad_lab.lab.audit.extract import (
    CLAIM_KINDS,
    QUANTITIES,
    SUFFIXES,
    Document,
    ExtractionError,
    decimals_of,
    read_document,
    safe_eval,
)
from tinygrad_lab.lab.audit.lines import _text_export

# a copy of ../shared/seeds (the course documents, byte for byte), so that CI has them
SEEDS = Path(__file__).resolve().parents[2] / "data" / "seeds"
ROLL = "102303346"


def figures(document: Document) -> dict[str, set]:
    """Every quantity the document mentions, with the set of its values."""
    found: dict[str, set] = {}
    for mention in document.mentions:
        found.setdefault(mention.quantity, set()).add(mention.value)
    return found


def where(document: Document, quantity: str) -> list[tuple[str, str, str]]:
    return [(m.where, m.source, m.text) for m in document.all(quantity)]


def kinds(document: Document) -> set[str]:
    return {claim.kind for claim in document.claims}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def notebook(folder: Path, cells: list, name: str = "sub.ipynb") -> Path:
    return write(folder, name, nbformat.writes(new_notebook(cells=cells)))


def stream(text: str) -> dict:
    return new_output("stream", name="stdout", text=text)


def shown(text: str) -> dict:
    return new_output("execute_result", data={"text/plain": text}, execution_count=1)


# --- the real submissions -----------------------------------------------------------------
def test_the_seed_folder_is_there() -> None:
    assert sorted(p.name for p in SEEDS.iterdir()) == ["lab6-notebook.txt", "lab6-readme.md"]


CONFIGURATION = {
    "roll": {ROLL},
    "hidden_width": {12.0},
    "hidden_layers": {5.0},
    "learning_rate": {0.008},
    "activation": {"relu"},
    "init_range": {1 / 7},
    "added_layers": {3.0},
    "hidden_layers_after": {8.0},
    "dense_params": {32436.0},
    "conv_params": {238.0},
}


def test_notebook_export_every_figure_and_nothing_else() -> None:
    document = read_document(SEEDS / "lab6-notebook.txt")
    assert document.format == "text" and document.roll == ROLL
    assert figures(document) == {
        **CONFIGURATION,
        "run1.loss.1": {2.108921628085988},
        "run1.loss.100": {1.6939143100570506},
        "run1.loss.400": {1.6792283228593363},
        "run1.grad_first": {0.0015464389527515316, 0.00154},
        "run1.grad_last": {0.001269362727289785, 0.00126},
        "run1.gri": {1.2182797867819324, 1.218, 1.22},
        "run2.loss.1": {1.6807958092530657},
        "run2.loss.400": {1.679399079753295},
        "run2.gri": {0.38839788917114976, 0.3883},
        "run3.loss.257": {1.679399},
        "output_size": {30.0},
        "manual_conv": {-18.0, -70.0},
    }


def test_notebook_export_where_each_figure_is() -> None:
    document = read_document(SEEDS / "lab6-notebook.txt")
    name = "lab6-notebook.txt"
    assert where(document, "hidden_width") == [
        (f"{name}:38", "text", "12"),
        (f"{name}:69", "code", "6 + a"),
        (f"{name}:77", "output", "12"),
    ]
    assert where(document, "learning_rate")[0] == (f"{name}:49", "text", "0.008")
    assert where(document, "init_range") == [
        (f"{name}:61", "text", "1/7"),
        (f"{name}:73", "code", "1/(a+1)"),
    ]
    assert where(document, "added_layers") == [
        (f"{name}:250", "text", "3"),
        (f"{name}:255", "code", "3"),
    ]
    assert where(document, "run1.gri") == [
        (f"{name}:211", "output", "1.2182797867819324"),
        (f"{name}:223", "text", "1.218"),
        (f"{name}:485", "text", "1.218"),
        (f"{name}:629", "text", "1.22"),
    ]
    assert where(document, "run3.loss.257") == [(f"{name}:708", "output", "1.679399")]
    assert where(document, "dense_params") == [
        (f"{name}:387", "text", "32436"),
        (f"{name}:390", "code", "(30*30)*36 + 36"),
        (f"{name}:393", "output", "32436"),
    ]
    assert where(document, "output_size") == [
        (f"{name}:436", "text", "30"),
        (f"{name}:439", "code", "(30-3+2)/1 + 1"),
        (f"{name}:442", "output", "30.0"),
    ]
    assert where(document, "manual_conv") == [
        (f"{name}:461", "text", "-18"),
        (f"{name}:477", "output", "-70.0"),
    ]
    assert document.all("activation")[0].line_text == "a = 6 (even) ‚Üí ReLU"  # as in the file


def test_notebook_export_best_and_precision() -> None:
    document = read_document(SEEDS / "lab6-notebook.txt")
    gri = document.best("run1.gri")
    assert (gri.text, gri.source, gri.decimals, gri.line) == (
        "1.2182797867819324",
        "output",
        16,
        211,
    )
    assert document.best("run2.gri").value == 0.38839788917114976
    assert document.best("run1.grad_first").decimals == 19
    assert [m.decimals for m in document.all("run1.grad_first")] == [19, 5, 5]
    # exact beats printed; between exact mentions code beats text
    assert document.best("init_range").source == "code"
    assert document.best("dense_params").source == "code"
    assert document.best("output_size").decimals is None
    assert [m.decimals for m in document.all("output_size")] == [0, None, 1]
    assert document.best("roll").where == "lab6-notebook.txt:19"


def test_notebook_export_claims() -> None:
    document = read_document(SEEDS / "lab6-notebook.txt")
    lines = {(c.kind, c.line) for c in document.claims}
    assert lines == {
        ("no_divergence", 218),
        ("no_vanishing", 229),
        ("no_exploding", 231),
        ("no_divergence", 300),
        ("gri_decreased", 302),
        ("no_exploding", 308),
        ("no_exploding", 353),
        ("no_vanishing", 491),
        ("gri_decreased", 673),
    }  # not the questions (lines 314, 336), not "It decreased" without GRI


def test_readme_every_figure_and_nothing_else() -> None:
    document = read_document(SEEDS / "lab6-readme.md")
    assert document.format == "markdown" and document.roll == ROLL
    assert figures(document) == {
        **CONFIGURATION,
        "run1.loss.1": {2.0239966428645446},
        "run1.loss.100": {1.6227947912195544},
        "run1.loss.400": {1.6077226071061075},
        "run1.grad_first": {0.0005896816602454895},
        "run1.grad_last": {0.0003822231531776964},
        "run1.gri": {1.5427680278995164},
        "run2.loss.1": {1.6084530339737773},
        "run2.loss.400": {1.6078097933813102},
        "run2.gri": {0.368518044011785},
        "manual_conv": {-18.0},
    }
    assert document.best("output_size") is None and document.all("run2.loss.100") == []
    assert {m.source for m in document.mentions} == {"text"}
    assert [m.line for m in document.all("roll")] == [2, 31]
    assert document.best("run1.grad_first").where == "lab6-readme.md:69"
    assert document.best("dense_params").line == 116 and document.best("conv_params").line == 127
    added = document.best("added_layers")
    assert (added.text, added.decimals, added.line) == ("three", None, 86)
    assert {(c.kind, c.line) for c in document.claims} == {
        ("no_vanishing", 78),
        ("no_exploding", 78),
        ("gri_decreased", 97),
        ("no_divergence", 100),
    }


def test_the_notebook_as_ipynb_gives_the_same_figures(tmp_path: Path) -> None:
    """The seed export rebuilt as a notebook, cell by cell: the same mentions and claims."""
    seed = SEEDS / "lab6-notebook.txt"
    cells = []
    for _, group in itertools.groupby(_text_export(seed.read_text()), key=lambda line: line.block):
        parts = {source: "" for source in ("code", "output", "text")}
        for line in group:
            parts[line.source] += line.raw + "\n"
        if parts["code"].strip():
            outputs = [stream(parts["output"])] if parts["output"] else []
            cells.append(new_code_cell(parts["code"].strip("\n"), outputs=outputs))
        if parts["text"].strip():
            cells.append(new_markdown_cell(parts["text"]))
    rebuilt = read_document(notebook(tmp_path, cells))
    original = read_document(seed)
    assert {(m.quantity, m.value, m.source, m.text) for m in rebuilt.mentions} == {
        (m.quantity, m.value, m.source, m.text) for m in original.mentions
    }
    assert [c.kind for c in rebuilt.claims] == [c.kind for c in original.claims]
    assert rebuilt.best("manual_conv").cell is not None and original.best("roll").cell is None


# --- generated notebooks ----------------------------------------------------------------------
def test_ipynb_cells_outputs_and_locations(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        [
            new_markdown_cell(f"# Lab 6\n**Roll Number:** {ROLL}"),
            new_code_cell(
                "hidden_width = 6 + a\nlearning_rate = 0.002 * (c + 1)\n"
                "print(hidden_width, learning_rate)",
                outputs=[stream("12 0.008\n")],
            ),
            new_markdown_cell("## Run 1"),
            new_code_cell(
                "for epoch in range(1, 401):\n    pass\nprint('Loss Epoch1:', loss)\nGRI",
                # a stream can arrive in pieces; the displayed value comes after the prints
                outputs=[stream("Loss Epoch1:"), stream(" 2.1089\n"), shown("1.2182797867819324")],
            ),
            new_markdown_cell("Result: GRI = 1.218, no vanishing gradient."),
            new_code_cell("for epoch in range(1, 401):\n    pass\nGRI2", outputs=[shown("0.3884")]),
            # a print in a loop: which output line is which print is unknown, so none is read
            new_code_cell(
                "for i in range(2):\n    print(i)\nprint(hidden_width)",
                outputs=[stream("0\n1\n12\n")],
            ),
            new_markdown_cell("The GRI dropped.\n\nIs it so that GRI increased?"),
            # a third training loop, and its loss history as pandas shows a DataFrame
            new_code_cell(
                "for epoch in range(1, 401):\n    pass\ndf_loss[df_loss['Epoch'] == 257]",
                outputs=[shown("     Epoch      Loss\n256    257  1.679399")],
            ),
        ],
    )
    document = read_document(path)
    assert document.format == "ipynb" and document.roll == ROLL
    assert where(document, "roll") == [("sub.ipynb:cell 1:2", "text", ROLL)]
    assert where(document, "hidden_width") == [
        ("sub.ipynb:cell 2:1", "code", "6 + a"),
        ("sub.ipynb:cell 2:1", "output", "12"),
    ]
    assert document.best("learning_rate").value == 0.008
    assert where(document, "run1.loss.1") == [("sub.ipynb:cell 4:1", "output", "2.1089")]
    assert where(document, "run1.gri") == [
        ("sub.ipynb:cell 4:2", "output", "1.2182797867819324"),
        ("sub.ipynb:cell 5:1", "text", "1.218"),
    ]
    # the second training loop starts run 2; the variable GRI2 names it as well
    assert where(document, "run2.gri") == [("sub.ipynb:cell 6:1", "output", "0.3884")]
    assert where(document, "run3.loss.257") == [("sub.ipynb:cell 9:2", "output", "1.679399")]
    assert document.all("hidden_width")[-1].where == "sub.ipynb:cell 2:1"  # none from cell 7
    mention = document.best("run1.loss.1")
    assert (mention.cell, mention.line, mention.decimals) == (4, 1, 4)
    assert mention.line_text == "Loss Epoch1: 2.1089"
    claims = [(c.kind, c.where) for c in document.claims]
    assert claims == [
        ("no_vanishing", "sub.ipynb:cell 5:1"),
        ("gri_decreased", "sub.ipynb:cell 8:1"),
    ]


def test_ipynb_best_prefers_output_then_first(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        [
            new_markdown_cell("GRI: 1.2345"),
            new_code_cell("print('GRI:', gri)", outputs=[stream("GRI: 1.2346\nGRI: 1.2347\n")]),
            new_markdown_cell("GRI: 1.23456"),
        ],
    )
    document = read_document(path)
    assert [m.text for m in document.all("run1.gri")] == ["1.2345", "1.2346", "1.2347", "1.23456"]
    assert document.best("run1.gri").text == "1.23456"  # most decimals wins over output
    without = Document(path, "ipynb", document.mentions[:3], ())
    assert without.best("run1.gri").text == "1.2346"  # same decimals: output, then first


def test_invalid_json_notebook_names_the_file_and_the_error(tmp_path: Path) -> None:
    text = '{"cells": [\n  {"a": 1}\n    {"b": 2}]}'
    with pytest.raises(json.JSONDecodeError) as json_error:
        json.loads(text)
    path = write(tmp_path, "sub.ipynb", text)
    with pytest.raises(ExtractionError) as error:
        read_document(path)
    assert str(error.value) == f"{path}: not a notebook: {json_error.value}"  # the path as given
    assert "Expecting ',' delimiter: line 3 column 5" in str(error.value)


def test_json_that_is_not_a_notebook(tmp_path: Path) -> None:
    path = write(tmp_path, "odd.ipynb", '{"foo": 1}')
    with pytest.raises(ExtractionError, match=rf"^{re.escape(str(path))}: not a notebook: "):
        read_document(path)


# --- generated text exports, markdown and scripts ----------------------------------------------
EXPORT = """\
Roll Number: 102303346

In [1]:
print("hidden_width =", hidden_width)
print("a =", a)

hidden_width = 12
a = 6

Run 1

In [2]:
def f(x):

    return x

Epoch 100 loss: 1.69

In [3]:
for epoch in range(1, 401):
    loss = 1
print("GRI:", GRI)

GRI: 1.2
Observed: GRI  =  1.25

In [4]:
output_size
30.0

In [5]:
plt.plot(losses)

Run 2

GRI: 0.4
"""


def test_text_export_code_and_output(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, "sub.txt", EXPORT))
    assert document.roll == ROLL
    # printed "hidden_width = 12" parses as Python, but starts with a print's label: output
    assert where(document, "hidden_width") == [("sub.txt:7", "output", "12")]
    # prose after a cell that cannot print is prose, and a loss label in it is found
    assert where(document, "run1.loss.100") == [("sub.txt:17", "text", "1.69")]
    # "GRI: 1.2" parses as Python too; output then runs on to the next blank line
    assert where(document, "run1.gri") == [
        ("sub.txt:24", "output", "1.2"),
        ("sub.txt:25", "output", "1.25"),
    ]
    # a literal after the code is what Jupyter displayed, even without a blank line
    assert where(document, "output_size") == [("sub.txt:29", "output", "30.0")]
    # a plotting call shows nothing a text export holds: the heading after it is prose
    assert where(document, "run2.gri") == [("sub.txt:36", "text", "0.4")]


MARKDOWN = """\
# Lab 6 write-up

Roll No. = 102303346

Hidden width: 12, Hidden layers = 5

## Run 1 (baseline)

- Loss at epoch 1 = 2.1089
- Epoch 100 loss: 1.69
- ‖∇W_first‖ = 1.5464e-03
- Gradient norm (last hidden layer) = 0.00126
- GRI:1.2

## After the break

| Figure | Value |
| --- | --- |
| GRI | 0.4 |

GRI increased from 0.3 to 0.4, no exploding gradient. Was there no vanishing gradient?

Hidden layers = 4 + (b mod 3)
Learning rate = 0.002 × (c + 1)
Initialization range = [-1/(a+1), +1/(a+1)]

| Epoch | Loss |
| --- | --- |
| 1 | 1.68 |
| 257 | 1.6794 |

If GPT had written it: Sigmoid activation, Learning rate 0.01, 10 hidden units.

In short: Run 1 GRI: 1.21; Run 2 GRI: 0.41

```python
hidden_width = 6 + a
```
"""


def test_markdown_labels_spacing_tables_and_fences(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, "sub.md", MARKDOWN))
    assert document.roll == ROLL
    assert figures(document) == {
        "roll": {ROLL},
        "hidden_width": {12.0},
        "hidden_layers": {5.0},
        "run1.loss.1": {2.1089},
        "run1.loss.100": {1.69},
        "run1.grad_first": {0.0015464},
        "run1.grad_last": {0.00126},
        "run1.gri": {1.2, 1.21},
        "run2.gri": {0.4, 0.41},
        "run2.loss.1": {1.68},
        "run2.loss.257": {1.6794},
    }
    assert document.best("run1.grad_first").decimals == 7
    assert [(m.source, m.line) for m in document.all("hidden_width")] == [("text", 5), ("code", 37)]
    assert [c.kind for c in document.claims] == ["no_exploding", "gri_increased"]


SCRIPT = """\
ROLL = "102303346"
base = 6
hidden_width = base + a  # names assigned a number before count
num_hidden_layers = int(4 + b % 3)  # a call: not evaluated
learning_rate = 0.002 * (c + 1)
init_range = 1 / (a + 1)
n_add = 3
for _ in range(n_add):
    weights.insert(-1, W)
for i in range(5):
    matrix.append(i)
conv_params = __import__("os").getpid()
dense_params = (30 * 30) * 36 + 36
# GRI = 1.5
print("GRI:", 1.2)
activation_name = 'tanh'
"""


def test_python_script_is_evaluated_safely(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, "sub.py", SCRIPT))
    assert document.format == "python" and document.roll == ROLL
    assert figures(document) == {
        "roll": {ROLL},
        "hidden_width": {12.0},
        "learning_rate": {0.008},
        "init_range": {1 / 7},
        "added_layers": {3.0},
        "dense_params": {32436.0},
        "activation": {"tanh"},
    }
    assert {m.source for m in document.mentions} == {"code"}
    assert {m.decimals for m in document.mentions} == {None}
    assert document.best("added_layers").line == 8 and document.claims == ()


def test_hard_coded_values_and_no_roll(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, "sub.py", "hidden_width = 10\nlr = 6 + a\n"))
    assert document.roll is None
    assert figures(document) == {"hidden_width": {10.0}}  # without a roll, `a` is unknown
    text = read_document(write(tmp_path, "notes.md", "# Notes\n\nNothing reported here.\n"))
    assert text.roll is None and text.mentions == () and text.claims == ()


@pytest.mark.parametrize(
    ("typed", "digits", "width"),
    [
        ("a, b, c = 1, 5, 3", (1, 5, 3), 7.0),
        ("(a, b, c) = (1, 5, 3)", (1, 5, 3), 7.0),
        ("a, c = 1, 3", (1, 2, 3), 7.0),  # b still the roll's
        ("a = 1", (1, 2, 1), 7.0),
        ("a, b, c = int(roll[-1]), int(roll[-2]), int(roll[-3])", None, 11.0),
        ("a, b, c = map(int, roll[-1:-4:-1])", None, 11.0),  # no value known: the roll's kept
    ],
)
def test_digits_typed_in_by_hand_are_what_the_code_computes_with(
    tmp_path: Path, typed: str, digits, width
) -> None:
    code = f"ROLL_NUMBER = 102300125\nroll = str(ROLL_NUMBER)\n{typed}\nhidden_width = 6 + a"
    document = read_document(notebook(tmp_path, [new_markdown_cell("# Lab"), new_code_cell(code)]))
    assert document.best("hidden_width").value == width
    if digits is None:
        assert document.digits is None
    else:
        found = document.digits
        assert (found.a, found.b, found.c) == digits and found.where == "sub.ipynb:cell 2:3"
        assert found.roll_ending == f"{digits[2]}{digits[1]}{digits[0]}"
    assert document.outputs_cleared  # code, and not one line of output
    assert document.code_roll.text == "102300125" and document.title_roll is None


def test_a_title_roll_and_a_code_roll_are_told_apart(tmp_path: Path) -> None:
    cells = [
        new_markdown_cell("# Lab 6\nRoll Number: 102300521\n\nFor roll number 102300999 ..."),
        new_code_cell("ROLL_NUMBER = 102300125", outputs=[stream("done\n")]),
    ]
    document = read_document(notebook(tmp_path, cells))
    assert document.title_roll.text == "102300521"  # the first the prose gives
    assert document.code_roll.text == "102300125" == document.roll
    assert not document.outputs_cleared


def test_unsupported_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError) as error:
        read_document(write(tmp_path, "sub.docx", "x"))
    assert str(error.value).startswith(f"{tmp_path / 'sub.docx'}: unsupported file type '.docx'")
    assert all(suffix in str(error.value) for suffix in SUFFIXES)
    (tmp_path / "latin.md").write_bytes("Roll Number: 102303346 \xe9t\xe9".encode("latin-1"))
    folder = re.escape(str(tmp_path))
    with pytest.raises(ExtractionError, match=rf"^{folder}/latin\.md: not UTF-8"):
        read_document(tmp_path / "latin.md")
    with pytest.raises(ExtractionError, match=rf"^{folder}/gone\.txt: cannot read"):
        read_document(tmp_path / "gone.txt")


# --- the pieces ---------------------------------------------------------------------------------
def test_decimals_and_safe_eval() -> None:
    cases = {"0.00154": 5, "32436": 0, "1.5464e-03": 7, "1.5e-03": 4, "2.5e+02": -1, "-70.0": 1}
    assert {text: decimals_of(text) for text in cases} == cases
    assert decimals_of("nan") is None
    assert safe_eval("0.002 * (c + 1)", {"c": 3.0}) == 0.008
    assert safe_eval("4 + (b % 3) - 2 ** 2 // 3", {"b": 4.0}) == 4.0
    assert safe_eval("__import__('os')", {}) is None
    assert safe_eval("x.real", {"x": 1.0}) is None
    assert safe_eval("1 / 0", {}) is None
    assert safe_eval("9 ** 9 ** 9", {}) is None
    assert safe_eval("y + 1", {}) is None


def test_quantities_and_claim_kinds() -> None:
    assert QUANTITIES[:8] == (
        "roll",
        "hidden_width",
        "hidden_layers",
        "learning_rate",
        "activation",
        "init_range",
        "added_layers",
        "hidden_layers_after",
    )
    assert "run2.gri" in QUANTITIES and QUANTITIES[-1] == "manual_conv"
    assert len(set(QUANTITIES)) == len(QUANTITIES) == 24
    assert CLAIM_KINDS == (
        "no_vanishing",
        "no_exploding",
        "gri_decreased",
        "gri_increased",
        "no_divergence",
    )


# --- printed figures round-trip -----------------------------------------------------------------
def expected_decimals(text: str) -> int:
    mantissa, _, exponent = text.lower().partition("e")
    return len(mantissa.partition(".")[2]) - int(exponent or 0)


@given(
    value=st.floats(min_value=1e-7, max_value=1e5, allow_nan=False),
    style=st.sampled_from(["fixed", "repr", "exp"]),
    digits=st.integers(min_value=0, max_value=17),
    container=st.sampled_from(["ipynb", "md", "txt"]),
    label=st.sampled_from(["Loss Epoch1:", "Loss at epoch 1 =", "Epoch 1 loss:"]),
)
def test_printed_figures_round_trip(value, style, digits, container, label) -> None:
    text = {"fixed": f"{value:.{digits}f}", "repr": repr(value), "exp": f"{value:e}"}[style]
    line = f"{label} {text}"
    with tempfile.TemporaryDirectory() as folder:
        if container == "ipynb":
            cell = new_code_cell("print(loss)", outputs=[stream(line + "\n")])
            path = notebook(Path(folder), [cell])
        elif container == "md":
            path = write(Path(folder), "sub.md", f"## Run 1\n\n- {line}\n")
        else:
            path = write(Path(folder), "sub.txt", f"In [1]:\nprint(x)\n\n{line}\n")
        mentions = read_document(path).all("run1.loss.1")
    assert [m.text for m in mentions] == [text]
    mention = mentions[0]
    assert mention.value == float(text) and mention.decimals == expected_decimals(text)
    # as printed, to its precision (and to float precision when it has more digits)
    assert abs(mention.value - value) <= 0.5 * 10.0**-mention.decimals + 1e-12 * value
    assert mention.source == ("text" if container == "md" else "output")
