"""Submissions for the audit's tests, made as a student makes them: the course notebook's own
code (notebook_oracle.py) run for a roll and seed, its figures printed by the notebook's cells,
and the notebook handed in as .ipynb, exported to text (as lab6-notebook.txt is), or written up
in markdown. Keyword arguments make the altered copies the tests look for."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
from notebook_oracle import notebook_lab, notebook_part_b, notebook_training

Cell = tuple[str, str, str]  # (kind: "markdown" | "code", source, printed output)


def figures(roll: str, seed: int, **notebook: object) -> dict[str, float]:
    """What the notebook's cells print for ``roll`` and ``seed`` (its np.float64s as floats)."""
    with np.errstate(all="ignore"):
        run1, run2, run3 = notebook_lab(roll, seed, **notebook)
    return {
        "loss1": float(run1["loss_history"][0]),
        "loss100": float(run1["loss_history"][99]),
        "loss400": float(run1["loss_history"][399]),
        "grad_first": float(run1["grad_first"]),
        "grad_last": float(run1["grad_last"]),
        "gri": float(run1["GRI"]),
        "run2_loss1": float(run2["loss_history"][0]),
        "run2_loss400": float(run2["loss_history"][399]),
        "run2_gri": float(run2["GRI"]),
        "run3_loss257": float(run3["loss_history"][256]),
    }


def cells(
    roll: str,
    seed: int,
    learning_rate: str = "0.002 * (c + 1)",
    edit: dict[str, str] | None = None,
    config_roll: str | None = None,
    baseline_cell_runs: int = 1,
    drawn: dict[str, float] | None = None,
    digits_in_one_line: bool = False,
    title_roll: str | None = None,
) -> list[Cell]:
    """The notebook's cells with their outputs. ``learning_rate``: the code's expression for it;
    ``edit``: printed figures replaced (name -> text); ``config_roll``: the roll whose digits the
    code uses (another student's), typed in one a line or, ``digits_in_one_line``, as
    ``a, b, c = 1, 5, 3``; ``baseline_cell_runs``: the training cell run more than once;
    ``drawn``: the figures, when the cells were run in another order; ``title_roll``: the roll
    the title gives, when not the code's."""
    digits = config_roll or roll
    a, b, c = int(digits[-1]), int(digits[-2]), int(digits[-3])
    lr = eval(learning_rate, {}, {"c": c})  # the tests' own expressions
    drawn = drawn or figures(digits, seed, learning_rate=lr, baseline_cell_runs=baseline_cell_runs)
    shown = {k: repr(v) for k, v in drawn.items()}
    shown.update(edit or {})
    width, layers = 6 + a, 4 + b % 3
    dense = (24 + a) ** 2 * (32 + b) + 32 + b
    f = 3 + c % 2
    conv = f * f * (8 + a) + 8 + a
    out = (24 + a - 3 + 2 * (c % 2)) / (1 + b % 2) + 1
    centre = notebook_part_b(a, b)
    typed = f"a, b, c = {a}, {b}, {c}" if digits_in_one_line else f"a = {a}\nb = {b}\nc = {c}"
    return [
        ("markdown", f"UCS761 ‚Äì Deep Learning Lab 6\nRoll Number: {title_roll or roll}", ""),
        (
            "code",
            f"ROLL_NUMBER = {roll}\n\nroll = str(ROLL_NUMBER)\n\n"
            "a = int(roll[-1])\nb = int(roll[-2])\nc = int(roll[-3])\n\n"
            'print("a =", a)\nprint("b =", b)\nprint("c =", c)'
            if config_roll is None
            else f"ROLL_NUMBER = {roll}\n\n{typed}\n\n"
            'print("a =", a)\nprint("b =", b)\nprint("c =", c)',
            f"a = {a}\nb = {b}\nc = {c}",
        ),
        (
            "code",
            "import numpy as np\n\nhidden_width = 6 + a\nnum_hidden_layers = 4 + (b % 3)\n"
            f'learning_rate = {learning_rate}\nactivation_name = "relu"\n'
            "init_range = 1/(a+1)\n\nprint(hidden_width, num_hidden_layers, learning_rate)",
            f"{width} {layers} {lr!r}",
        ),
        ("code", "np.random.seed(np.random.randint(0,1000))\n\nN = 400", ""),
        (
            "code",
            "loss_record = {}\n\nfor epoch in range(1,401):\n    activations, Zs = forward(X)\n\n"
            "grad_first = np.linalg.norm(grads_W[0])\ngrad_last = np.linalg.norm(grads_W[-2])\n"
            "GRI = grad_first/grad_last\n\n"
            'print("Loss Epoch1:", loss_record[1])\nprint("Loss Epoch100:", loss_record[100])\n'
            'print("Loss Epoch400:", loss_record[400])\nprint("Grad First:", grad_first)\n'
            'print("Grad Last:", grad_last)\nprint("GRI:", GRI)',
            f"Loss Epoch1: {shown['loss1']}\nLoss Epoch100: {shown['loss100']}\n"
            f"Loss Epoch400: {shown['loss400']}\nGrad First: {shown['grad_first']}\n"
            f"Grad Last: {shown['grad_last']}\nGRI: {shown['gri']}",
        ),
        ("markdown", "Forced Structural Break", ""),
        (
            "code",
            "for _ in range(3):\n    W = np.random.uniform(-init_range,init_range,\n"
            "                          (hidden_width,hidden_width))\n"
            "    b_vec = np.zeros((1,hidden_width))\n    weights.insert(-1,W)\n"
            "    biases.insert(-1,b_vec)",
            "",
        ),
        (
            "code",
            "loss_record2 = {}\n\nfor epoch in range(1,401):\n    activations, Zs = forward(X)\n\n"
            'print("Run2 Loss Epoch1:", loss_record2[1])\n'
            'print("Run2 Loss Epoch400:", loss_record2[400])\nprint("Run2 GRI:", GRI2)',
            f"Run2 Loss Epoch1: {shown['run2_loss1']}\nRun2 Loss Epoch400: "
            f"{shown['run2_loss400']}\nRun2 GRI: {shown['run2_gri']}",
        ),
        ("markdown", "PART B ‚Äì Structural Reading Component", ""),
        (
            "code",
            f"dense_params = ({24 + a}*{24 + a})*{32 + b} + {32 + b}\ndense_params",
            str(dense),
        ),
        ("code", f"conv_params = ({f}*{f})*{8 + a} + {8 + a}\nconv_params", str(conv)),
        (
            "code",
            f"output_size = ({24 + a}-3+{2 * (c % 2)})/{1 + b % 2} + 1\noutput_size",
            repr(out),
        ),
        (
            "code",
            "sub = matrix[1:4,1:4]\nresult = np.sum(sub*filter_mat)\n\nresult",
            f"np.float64({float(centre)!r})",
        ),  # fmt: skip
        (
            "code",
            "loss_history = []\n\nfor epoch in range(1,401):\n\n"
            "    activations, Zs = forward(X)\n    loss_history.append(loss)\n\n"
            'df_loss = pd.DataFrame({"Epoch": range(1,401), "Loss": loss_history})\n\n'
            'df_loss[df_loss["Epoch"] == 257]',
            f"Unnamed: 0,Epoch,Loss\n256,257,{float(shown['run3_loss257']):.6f}",
        ),
    ]


def cleared(notebook: list[Cell]) -> list[Cell]:
    """The notebook with every output cleared ("Clear All Outputs"), its code kept."""
    return [(kind, source, "") for kind, source, _ in notebook]


def as_text(notebook: list[Cell]) -> str:
    """The notebook exported to text, as lab6-notebook.txt is: ``In [n]:``, code, output."""
    lines, number = [], 63
    for kind, source, output in notebook:
        if kind == "markdown":
            lines += [source, ""]
            continue
        lines += [f"In [{number}]:", source, ""]
        number += 1
        if output:
            lines += [output, "", ""]
    return "\n".join(lines) + "\n"


def as_ipynb(notebook: list[Cell]) -> str:
    """The notebook as .ipynb JSON, outputs included (prints as streams, a last expression's
    value as an execute_result, as Jupyter saves them)."""
    nb = nbformat.v4.new_notebook()
    for count, (kind, source, output) in enumerate(notebook, start=63):
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
            continue
        outputs = []
        if output and "print(" in source:
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=output + "\n"))
        elif output:
            outputs.append(
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": output}, execution_count=count
                )
            )
        nb.cells.append(nbformat.v4.new_code_cell(source, execution_count=count, outputs=outputs))
    return nbformat.writes(nb)


def as_markdown(roll: str, seed: int, edit: dict[str, str] | None = None) -> str:
    """A write-up in the shape of lab6-readme.md (its garbled symbols too), with the figures
    of ``roll`` and ``seed``."""
    a, b, c = int(roll[-1]), int(roll[-2]), int(roll[-3])
    shown = {k: repr(v) for k, v in figures(roll, seed).items()} | (edit or {})
    n, neurons, f, k = 24 + a, 32 + b, 3 + c % 2, 8 + a
    centre = float(notebook_part_b(a, b))
    return f"""## Structural Analysis of Gradient Flow in Deep Neural Networks
**Roll Number: {roll}**

## âš™ï¸ Architecture (Roll-Number Constrained)

a = {a}
b = {b}
c = {c}

- Hidden Width = 6 + a = {6 + a}
- Hidden Layers = 4 + (b mod 3) = {4 + b % 3}
- Learning Rate = 0.002 Ã— (c + 1) = {0.002 * (c + 1)!r}
- Activation = ReLU (since a is even)
- Initialization Range = [-1/{a + 1}, +1/{a + 1}]
- Bias = 0

## ðŸ“Š Part A â€“ Gradient Flow Experiment

### Baseline Model ({4 + b % 3} Hidden Layers)

- Loss Epoch 1: {shown["loss1"]}
- Loss Epoch 100: {shown["loss100"]}
- Loss Epoch 400: {shown["loss400"]}

- â€–âˆ‡W_firstâ€– = {shown["grad_first"]}
- â€–âˆ‡W_lastâ€– = {shown["grad_last"]}

GRI = {shown["gri"]}

### Structural Break (Depth Increase)

New depth: {4 + b % 3 + 3} hidden layers.

- Loss Epoch 1: {shown["run2_loss1"]}
- Loss Epoch 400: {shown["run2_loss400"]}
- GRI: {shown["run2_gri"]}

## ðŸ“˜ Part B â€“ Parameter Scaling Analysis

### Dense Layer Parameters

Total parameters:

({n * n} Ã— {neurons}) + {neurons} = {n * n * neurons + neurons}

### Convolution Layer Parameters

Total parameters:

({f * f} Ã— {k}) + {k} = {f * f * k + k}

### Manual Convolution Result

Center convolution output: {centre:g}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ honest shapes
# Honest submissions in the shapes students hand them in: each is the notebook's own code run
# for a roll and seed, only arranged, labelled or counted differently. None may be accused.
def _weights_first_figures(roll: str, seed: int) -> dict[str, float]:
    """`figures`, for a student who ran the weights cell before the data cell: the generator
    draws the weight matrices first, then X (the notebook's code, its cells in that order)."""
    a, b, c = int(roll[-1]), int(roll[-2]), int(roll[-3])
    width, depth, lr, r = 6 + a, 4 + b % 3, 0.002 * (c + 1), 1 / (a + 1)
    np.random.seed(seed)
    layers = [3] + [width] * depth + [1]
    weights = [
        np.random.uniform(-r, r, (i, o)) for i, o in zip(layers[:-1], layers[1:], strict=False)
    ]
    biases = [np.zeros((1, o)) for o in layers[1:]]
    X = np.random.uniform(-2, 2, (400, 3))
    y = (np.sin(X[:, 0]) + 0.5 * (X[:, 1] ** 2) - 0.8 * X[:, 2]).reshape(-1, 1)
    runs = []
    with np.errstate(all="ignore"):
        for run in (1, 2, 3):
            if run == 2:
                for _ in range(3):
                    weights.insert(-1, np.random.uniform(-r, r, (width, width)))
                    biases.insert(-1, np.zeros((1, width)))
            history, grads_W, _ = notebook_training(X, y, weights, biases, lr, 400)
            first, last = np.linalg.norm(grads_W[0]), np.linalg.norm(grads_W[-2])
            runs.append((history, first, last, first / last))
    (h1, f1, l1, g1), (h2, _, _, g2), (h3, *_) = runs
    return {
        "loss1": float(h1[0]), "loss100": float(h1[99]), "loss400": float(h1[399]),
        "grad_first": float(f1), "grad_last": float(l1), "gri": float(g1),
        "run2_loss1": float(h2[0]), "run2_loss400": float(h2[399]), "run2_gri": float(g2),
        "run3_loss257": float(h3[256]),
    }  # fmt: skip


_TRAIN_DEF = (
    "def train(epochs=400):\n    record = {}\n    for epoch in range(1, epochs + 1):\n"
    "        activations, Zs = forward(X)\n        record[epoch] = loss\n"
    "    return record, grads_W"
)


def _printed(shown: dict[str, str], run: int, style: str) -> str:
    """What a training cell prints for run 1 or 2, in a student's ``style`` of labels."""
    if style == "notebook" and run == 1:
        return (
            f"Loss Epoch1: {shown['loss1']}\nLoss Epoch100: {shown['loss100']}\n"
            f"Loss Epoch400: {shown['loss400']}\nGrad First: {shown['grad_first']}\n"
            f"Grad Last: {shown['grad_last']}\nGRI: {shown['gri']}"
        )
    if style == "notebook":
        return (
            f"Run2 Loss Epoch1: {shown['run2_loss1']}\nRun2 Loss Epoch400: "
            f"{shown['run2_loss400']}\nRun2 GRI: {shown['run2_gri']}"
        )
    if style == "norms" and run == 1:
        return (
            f"Loss Epoch1: {shown['loss1']}\nLoss Epoch100: {shown['loss100']}\n"
            f"Loss Epoch400: {shown['loss400']}\n||dW_first|| = {shown['grad_first']}\n"
            f"||dW_last|| = {shown['grad_last']}\nGRI (run 1) = {shown['gri']}"
        )
    if style == "norms":
        return (
            f"Loss Epoch1: {shown['run2_loss1']}\nLoss Epoch400: {shown['run2_loss400']}\n"
            f"GRI (run 2) = {shown['run2_gri']}"
        )
    if style == "unlabelled":  # run 2 printed with run 1's own print lines
        key = "" if run == 1 else "run2_"
        return (
            f"Loss Epoch1: {shown[key + 'loss1']}\nLoss Epoch400: {shown[key + 'loss400']}\n"
            f"GRI: {shown[key + 'gri']}"
        )
    if run == 1:  # "epoch0": epochs counted from 0, range(400)
        return (
            f"Loss Epoch0: {shown['loss1']}\nLoss Epoch99: {shown['loss100']}\n"
            f"Loss Epoch399: {shown['loss400']}\nGrad First: {shown['grad_first']}\n"
            f"Grad Last: {shown['grad_last']}\nGRI: {shown['gri']}"
        )
    return (
        f"Run2 Loss Epoch0: {shown['run2_loss1']}\nRun2 Loss Epoch399: "
        f"{shown['run2_loss400']}\nRun2 GRI: {shown['run2_gri']}"
    )


def _table(shown: dict[str, str]) -> str:
    return f"Unnamed: 0,Epoch,Loss\n256,257,{float(shown['run3_loss257']):.6f}"


def _with_output(cell: Cell, output: str, source: str | None = None) -> Cell:
    return (cell[0], cell[1] if source is None else source, output)


WARNING = (
    "/tmp/ipykernel_4242/3170511611.py:9: RuntimeWarning: overflow encountered in matmul\n"
    "  grad_first = np.linalg.norm(grads_W[0])"
)


def _shown(roll: str, seed: int) -> dict[str, str]:
    return {k: repr(v) for k, v in figures(roll, seed).items()}


def _function_cells(roll: str, seed: int) -> list[Cell]:
    """Training inside a function, called for run 1, run 2 and the last cell's run 3; norms
    and GRI printed as ``||dW_first|| =`` and ``GRI (run 1) =``."""
    notebook, shown = cells(roll, seed), _shown(roll, seed)
    notebook[4] = _with_output(
        notebook[4],
        _printed(shown, 1, "norms"),
        f"{_TRAIN_DEF}\n\nloss_record, grads_W = train()\n"
        'print("Loss Epoch1:", loss_record[1])\nprint("||dW_first|| =", grad_first)',
    )
    notebook[7] = _with_output(
        notebook[7],
        _printed(shown, 2, "norms"),
        'loss_record2, grads_W = train()\nprint("Loss Epoch1:", loss_record2[1])\n'
        'print("GRI (run 2) =", GRI2)',
    )
    notebook[13] = _with_output(
        notebook[13],
        notebook[13][2],
        "record, _ = train()\nloss_history = list(record.values())\n"
        'df_loss = pd.DataFrame({"Epoch": range(1,401), "Loss": loss_history})\n\n'
        'df_loss[df_loss["Epoch"] == 257]',
    )
    return notebook


def _one_cell(roll: str, seed: int, last_loop: bool = True) -> list[Cell]:
    """Everything of Part A in one cell, its prints at the end of its output; without the last
    loop, run 2 printed with run 1's own labels."""
    notebook, shown = cells(roll, seed), _shown(roll, seed)
    parts = (3, 4, 6, 7, 13) if last_loop else (3, 4, 6, 7)
    style = "notebook" if last_loop else "unlabelled"
    output = f"{_printed(shown, 1, style)}\n{_printed(shown, 2, style)}"
    output += f"\n\n{_table(shown)}" if last_loop else ""
    source = "\n\n".join(notebook[k][1] for k in parts)
    return [*notebook[:3], ("code", source, output), *notebook[8:13]]


def _epoch0_cells(roll: str, seed: int) -> list[Cell]:
    notebook, shown = cells(roll, seed), _shown(roll, seed)
    for k, run in ((4, 1), (7, 2)):
        source = notebook[k][1].replace("range(1,401)", "range(400)")
        source = re.sub(r"Epoch(1|100|400)", lambda m: f"Epoch{int(m[1]) - 1}", source)
        source = re.sub(r"\[(1|100|400)\]", lambda m: f"[{int(m[1]) - 1}]", source)
        notebook[k] = _with_output(notebook[k], _printed(shown, run, "epoch0"), source)
    return notebook


def _warning_cells(roll: str, seed: int) -> list[Cell]:
    notebook = cells(roll, seed)
    notebook[4] = _with_output(notebook[4], f"{WARNING}\n{notebook[4][2]}")
    return notebook


def _weights_first_cells(roll: str, seed: int) -> list[Cell]:
    notebook = cells(roll, seed, drawn=_weights_first_figures(roll, seed))
    notebook[3] = (
        "code",
        "np.random.seed(np.random.randint(0,1000))\n\nfor i in range(len(layers)-1):\n"
        "    W = np.random.uniform(-init_range, init_range, (layers[i], layers[i+1]))\n"
        "    weights.append(W)\n\nN = 400\nX = np.random.uniform(-2,2,(N,3))",
        "",
    )
    return notebook


def _part_b_first_cells(roll: str, seed: int) -> list[Cell]:
    notebook = cells(roll, seed)
    return [*notebook[:3], *notebook[8:13], *notebook[3:8], notebook[13]]


def _markdown_norms(roll: str, seed: int) -> str:
    """The write-up with the norms and GRI labelled as some students label them."""
    shown = _shown(roll, seed)
    text = as_markdown(roll, seed)
    text = re.sub(r"(?m)^- â€–âˆ‡W_(?:first|last)â€– = .*$", "", text)
    text = text.replace(
        f"GRI = {shown['gri']}",
        f"||dW_first|| = {shown['grad_first']}\n\n||dW_last|| = {shown['grad_last']}\n\n"
        f"GRI (run 1) = {shown['gri']}",
    )
    return text.replace(f"- GRI: {shown['run2_gri']}", f"GRI (run 2) = {shown['run2_gri']}")


def _spanish(roll: str, seed: int) -> str:
    """The write-up in Spanish: the figures as the code printed them, the runs by its own
    headings ("Ejecución 2"), which no English marker names."""
    text = as_markdown(roll, seed)
    text = text.replace("### Baseline Model", "### Ejecución 1: modelo base")
    text = text.replace("### Structural Break (Depth Increase)", "### Ejecución 2: más capas")
    text = text.replace("New depth:", "Nueva profundidad:")
    return text.replace("Part A â€“ Gradient Flow Experiment", "Parte A â€“ Flujo del gradiente")


NOTEBOOK_SHAPES = {
    "notebook": cells,
    "function": _function_cells,
    "one_cell": _one_cell,
    "one_cell_two_runs": lambda roll, seed: _one_cell(roll, seed, last_loop=False),
    "epoch0": _epoch0_cells,
    "warning": _warning_cells,
    "weights_first": _weights_first_cells,
    "part_b_first": _part_b_first_cells,
}
WRITE_UP_SHAPES = {"markdown": as_markdown, "norms_md": _markdown_norms, "spanish": _spanish}
SHAPES = (*NOTEBOOK_SHAPES, *WRITE_UP_SHAPES, "notebook_and_write_up")


def shaped(roll: str, seed: int, shape: str, ipynb: bool = False) -> dict[str, str]:
    """An honest submission of ``roll`` and ``seed`` in ``shape``: file name -> text."""
    if shape in WRITE_UP_SHAPES:
        return {"README.md": WRITE_UP_SHAPES[shape](roll, seed)}
    if shape == "notebook_and_write_up":
        return shaped(roll, seed, "notebook", ipynb) | shaped(roll, seed, "markdown")
    notebook = NOTEBOOK_SHAPES[shape](roll, seed)
    return {"lab.ipynb": as_ipynb(notebook)} if ipynb else {"lab.txt": as_text(notebook)}
