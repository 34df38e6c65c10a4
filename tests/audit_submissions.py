"""Submissions for the audit's tests, made as a student makes them: the course notebook's own
code (notebook_oracle.py) run for a roll and seed, its figures printed by the notebook's cells,
and the notebook handed in as .ipynb, exported to text (as lab6-notebook.txt is), or written up
in markdown. Keyword arguments make the altered copies the tests look for."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
from notebook_oracle import notebook_lab, notebook_part_b

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
) -> list[Cell]:
    """The notebook's cells with their outputs. ``learning_rate``: the code's expression for it;
    ``edit``: printed figures replaced (name -> text); ``config_roll``: the roll whose digits the
    code uses (another student's); ``baseline_cell_runs``: the training cell run more than once."""
    digits = config_roll or roll
    a, b, c = int(digits[-1]), int(digits[-2]), int(digits[-3])
    lr = eval(learning_rate, {}, {"c": c})  # the tests' own expressions
    shown = {
        k: repr(v)
        for k, v in figures(
            digits, seed, learning_rate=lr, baseline_cell_runs=baseline_cell_runs
        ).items()
    }
    shown.update(edit or {})
    width, layers = 6 + a, 4 + b % 3
    dense = (24 + a) ** 2 * (32 + b) + 32 + b
    f = 3 + c % 2
    conv = f * f * (8 + a) + 8 + a
    out = (24 + a - 3 + 2 * (c % 2)) / (1 + b % 2) + 1
    centre = notebook_part_b(a, b)
    return [
        ("markdown", f"UCS761 ‚Äì Deep Learning Lab 6\nRoll Number: {roll}", ""),
        (
            "code",
            f"ROLL_NUMBER = {roll}\n\nroll = str(ROLL_NUMBER)\n\n"
            "a = int(roll[-1])\nb = int(roll[-2])\nc = int(roll[-3])\n\n"
            'print("a =", a)\nprint("b =", b)\nprint("c =", c)'
            if config_roll is None
            else f"ROLL_NUMBER = {roll}\n\na = {a}\nb = {b}\nc = {c}\n\n"
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
