"""The lab's report (Markdown), results.json and CSV files, rendered from a `LabResult` and
staged in `OutputFiles`."""

from __future__ import annotations

import csv
import io
import json
from functools import partial
from pathlib import Path

from tinygrad_lab.lab.output.files import OutputFiles

# fmt, percent, factor and share were defined here: kept importable from here
from tinygrad_lab.lab.output.tables import change_text, factor, fmt, percent, share, table  # noqa: F401
from tinygrad_lab.lab.rules import LabConfig
from tinygrad_lab.lab.stress import part_a
from tinygrad_lab.lab.stress.analysis import (
    EXPLODING_GRI,
    NO_LEARNING_R2,
    VANISHING_GRI,
    AffineFold,
    diagnose,
)
from tinygrad_lab.lab.stress.compute import LabResult, MemoryTable
from tinygrad_lab.lab.stress.curvature_report import curvature_section
from tinygrad_lab.lab.stress.part_a import RunResult, StressResult
from tinygrad_lab.lab.stress.part_b import PartBResult
from tinygrad_lab.lab.stress.plots import missing_plots


def _run_summary(title: str, run: RunResult) -> list[str]:
    lines = [f"### {title}: {run.hidden_layers} hidden layers", ""]
    if run.losses:
        lines += table(["epoch", "loss"], [[epoch, loss] for epoch, loss in run.losses.items()])
    if run.diverged_at is not None:
        lines += [_divergence(run), ""]
    gri = fmt(run.gri) if run.gri is not None else f"undefined ({run.gri_undefined_reason})"
    verdict, explanation = diagnose(run)
    return lines + [
        f"- ‖∇W_first‖ (first weight matrix, last epoch) = {fmt(run.grad_norm_first)}",
        f"- ‖∇W_last‖ (weight matrix of the last hidden layer, `grads_W[-2]`) = "
        f"{fmt(run.grad_norm_last)}",
        f"- **GRI** = ‖∇W_first‖ / ‖∇W_last‖ = {gri}",
        f"- R² against the mean predictor = {fmt(run.r2, 4)} ({_final_loss_text(run)})",
        f"- **Diagnosis: {verdict}.** {explanation}",
        "",
    ]


def _final_loss_text(run: RunResult) -> str:
    if run.diverged_at is None:
        return f"final loss {fmt(run.final_loss)}"
    if not run.loss_history:
        return "no finite loss"
    return f"last finite loss {fmt(run.final_loss)}, at epoch {len(run.loss_history)}"


def _divergence(run: RunResult) -> str:
    """What a diverged run has, and what it lacks (its plots included)."""
    text = f"**The loss stopped being finite at epoch {run.diverged_at}**; training stopped there. "
    if not run.loss_history:
        return text + (
            "No epoch had a finite loss, so this run has no loss history, no gradient figures, "
            "and no curve in the plots."
        )
    last = len(run.loss_history)
    return text + (
        f"The loss history, the layer table and the plots end at epoch {last}, the last finite "
        "one; the last epoch's gradient norms, GRI and R² are undefined."
    )


def _layer_table(run: RunResult) -> list[str]:
    rows = [
        [label]
        + [
            "—" if value is None else value
            for value in (
                norms.get("weight_grad_norm"),
                norms.get("bias_grad_norm"),
                norms.get("output_grad_norm"),
                run.dead_fractions.get(label),
            )
        ]
        for label, norms in run.layer_grad_norms.items()
    ]
    if not rows:
        return []
    epoch = "the last epoch" if run.diverged_at is None else f"epoch {len(run.loss_history)}"
    return [
        f"Every layer at {epoch} (gradient norms; dead fraction = share of units that output "
        "0 for every example):",
        "",
        *table(["layer", "‖∇W‖", "‖∇b‖", "‖∂L/∂output‖", "dead fraction"], rows),
    ]


def _memory_table(memory: MemoryTable) -> list[str]:
    return [
        "Bytes each layer's training forward pass saves for backward (freed by backward):",
        "",
        *table(["layer", "bytes saved"], [[k, v] for k, v in memory.per_layer.items()]),
        f"Total: {memory.total:,} bytes; the same forward pass under `no_grad` (inference) "
        f"saves {memory.no_grad_total:,} bytes.",
        "",
    ]


def _run_section(title: str, run: RunResult, memory: MemoryTable | None) -> list[str]:
    lines = _run_summary(title, run) + _layer_table(run)
    return lines + (_memory_table(memory) if memory else [])


def markdown_report(result: LabResult) -> str:
    """The lab's answers, with every figure taken from ``result``."""
    run, config = result.run, result.run.config
    lines = [f"# Lab 6 — Deep network structural stress test: roll number {run.roll}", ""]
    if result.part_a is not None:
        lines += [
            f"Computed by tinygrad_lab with seed {run.seed} and {run.epochs} "
            "epochs a run. A run with seed s reproduces the course notebook's code run after "
            f"`np.random.seed(s)`. These are seed {run.seed}'s figures: another seed gives "
            "other figures, so a write-up is checked against the seed a student's notebook "
            "drew (`--seed s`), and `--seeds 0-49` shows how much they vary.",
            "",
        ]
    else:  # Part B alone: counts and a convolution, which no seed changes
        lines += ["Computed by tinygrad_lab: Part B's figures depend on the roll number only.", ""]
    if config.assumptions:
        lines += ["> **Assumed defaults** (the course documents leave these rules open):"]
        lines += [f"> - {a}" for a in config.assumptions] + [""]
    if config.overrides:
        lines += ["> **Overrides** (given for this run, in place of the roll's rules):"]
        lines += [f"> - {o}" for o in config.overrides] + [""]
    lines += [f"## Configuration (a = {config.a}, b = {config.b}, c = {config.c})", ""]
    lines += table(["quantity", "rule", "value"], [list(row) for row in config.table()])
    if result.part_a is not None:
        lines += _part_a(result.part_a, result.memory or {})
    if result.curvature:
        lines += curvature_section(result.curvature)
    if result.q2 is not None:
        lines += _q2(result.q2)
    if result.part_b is not None:
        lines += _part_b(result.part_b)
    return "\n".join(lines)


def _q2(fold: AffineFold) -> list[str]:
    title = "## Q2 by experiment: without activations, one affine map remains"
    if fold.weight is None:
        return [
            title,
            "",
            f"Not computed: {fold.absent_reason}. Without activations the {fold.linear_layers} "
            "Linear layers would still multiply out into a single `x @ W + b`.",
            "",
        ]
    rows, columns = fold.weight.shape
    return [
        title,
        "",
        f"The trained run-2 network's {fold.linear_layers} Linear layers with every "
        "activation replaced by Identity were multiplied out into a single `x @ W + b` "
        f"(W of shape {rows}×{columns}, rank {fold.rank}). "
        f"It reproduces the network's output to within {fmt(fold.max_abs_difference, 3)}"
        f" (rounding error), so the effective number of linear layers is "
        f"**{fold.effective_linear_layers}**: depth without non-linearity adds no "
        "representational power; the model is linear regression.",
        "",
    ]


def _part_a(stress: StressResult, memory: dict[str, MemoryTable]) -> list[str]:
    run1, run2, n = stress.run1, stress.run2, stress.run.config.n_samples
    lines = [
        "## Part A — gradient-flow stress test",
        "",
        f"Data: N = {n}, X ~ U(−2, 2)³, y = sin(x0) + 0.5·x1² − 0.8·x2. The mean predictor's "
        f"loss (variance of y) is {fmt(stress.mean_predictor_loss)}.",
        "",
        f"Diagnosis: *vanishing* when GRI < {VANISHING_GRI:g}, *exploding* when GRI > "
        f"{EXPLODING_GRI:g} or the loss is not finite, *dead network* when an activation layer "
        "outputs 0 for every example (or GRI is 0/0); a ratio in between is *stable* when the "
        f"network learned and *not learning* when R² < {NO_LEARNING_R2:g} (it predicts little "
        "more than the mean of y; below 0, worse than the mean). Every diagnosis says both: "
        "what the gradient ratio is, and whether the network learned.",
        "",
    ]
    lines += _run_section("Run 1", run1, memory.get("run1"))
    lines += [
        "### The structural break",
        "",
        f"{run2.hidden_layers - run1.hidden_layers} hidden layers inserted just "
        "before the output layer, trained weights kept, then the same training again.",
        "",
    ]
    lines += _run_section("Run 2", run2, memory.get("run2"))
    lines += [
        "### Run 3, trained on",
        "",
        f"The notebook's last cell: {stress.run.epochs} more epochs on the deeper network, "
        "from where run 2 ended. Its loss at every epoch is in `loss_history_run3.csv`, the "
        "table that cell shows.",
        "",
    ]
    lines += _run_section("Run 3", stress.run3, memory.get("run3"))
    lines += [f"`{name}` is not drawn: {why}." for name, why in missing_plots(stress).items()]
    stride = stress.weight_grad_norm_series_stride
    if stride > 1:  # the budget that keeps memory flat over long runs
        lines += [
            f"The weight-gradient norm series (`weight_grad_norm_series`, `grad_norms.png`) keeps "
            f"one step in {stride} (steps 1, {1 + stride}, {1 + 2 * stride}, …): it has a "
            f"budget of {part_a.SERIES_BUDGET:,} steps.",
            "",
        ]
    return lines + _answers(stress)


def _answers(stress: StressResult) -> list[str]:
    """Q1, Q3, Q4 and Q5, from the figures."""
    run1, run2, config = stress.run1, stress.run2, stress.run.config
    change = stress.gri_change
    verdict = "cannot be compared: a GRI is undefined" if change is None else change_text(change)
    return [
        "### What the figures say",
        "",
        f"- Q1: GRI went from {fmt(run1.gri, 4)} (run 1) to {fmt(run2.gri, 4)} (run 2): "
        f"it {verdict}. GRI > 1 means the first layer receives a larger weight gradient than "
        "the last hidden layer, < 1 a smaller one; one seed is not evidence — run "
        "`--seeds 0-49` to see how much GRI varies between seeds.",
        f"- Q3: {_depth_answer(run1, run2)}",
        f"- Q4: a solution that ignored the roll-number rules shows at once in the "
        f"architecture: {_architecture(config)}.",
        f"- Q5: {_first_layer_answer(run2)}",
        "",
    ]


def _depth_answer(run1: RunResult, run2: RunResult) -> str:
    diverged = [(k, r.diverged_at) for k, r in ((1, run1), (2, run2)) if r.diverged_at]
    if diverged:
        which = " and ".join(f"run {k} diverged at epoch {epoch}" for k, epoch in diverged)
        return f"cannot be answered from these runs: {which}, so there is no final loss to compare."
    return (
        f"depth did {'not ' if run2.final_loss >= run1.final_loss else ''}"
        f"lower the loss: run 1 ended at {fmt(run1.final_loss)}, run 2 at "
        f"{fmt(run2.final_loss)} (R² {fmt(run1.r2, 3)} → {fmt(run2.r2, 3)})."
    )


def _first_layer_answer(run2: RunResult) -> str:
    if run2.diverged_at is not None:
        return (
            f"run 2 diverged at epoch {run2.diverged_at}, so there is no last epoch's gradient "
            "to show what its first layer sees."
        )
    return (
        f"in run 2 the first layer's weight gradient is {fmt(run2.grad_norm_first)} "
        f"against {fmt(run2.grad_norm_last)} at the last hidden layer."
    )


def _architecture(config: LabConfig) -> str:
    """What the roll's rules require; an override is named as this run's choice, not as the
    roll's rule."""

    def ruled(quantity: str) -> str:
        rule = config.rule(quantity)
        notes = ["an assumed default: the documents leave it open"] if rule.left_open else []
        if rule.overridden:
            notes.append(f"{rule.value} here, by override")
        value = rule.without_override if rule.overridden else rule.value
        return f"{value}" + (f" ({'; '.join(notes)})" if notes else "")

    return (
        f"this roll needs width {config.hidden_width}, "
        f"{config.hidden_layers} hidden layers, learning rate {fmt(config.learning_rate)}, "
        f"{ruled('activation')} activations, "
        f"init ±{fmt(config.init_range, 4)} and "
        f"{ruled('structural break')} layers added at the break"
    )


def _part_b(part: PartBResult) -> list[str]:
    size = part.output_size_config
    size_text = (
        str(part.output_size)
        if part.output_size is not None
        else f"**error**: {part.output_size_error}"
    )
    lines = ["## Part B — structural reading", ""]
    lines += table(
        ["quantity", "value", "how it was computed"],
        [
            ["dense parameters", part.dense_parameters, f"{part.dense_layer}.num_parameters()"],
            ["conv parameters", part.conv_parameters, f"{part.conv_layer}.num_parameters()"],
            [
                f"output size (N={size['N']}, F={size['F']}, S={size['S']}, P={size['P']})",
                size_text,
                _output_size_check(part),
            ],
            [
                "manual convolution (centre 3×3 region)",
                part.manual_convolution,
                "the framework's Conv2d on the 5×5 matrix",
            ],
        ],
    )
    lines += [
        "Dense layers connect every pixel to every neuron, so their parameters grow with the "
        "image area; a convolution shares one small filter over all positions, so its "
        "parameters depend only on the filter size and count.",
        "",
    ]
    return lines + [f"- {note}" for note in part.notes] + [""]


def _output_size_check(part: PartBResult) -> str:
    forward = part.output_size_forward
    if part.output_size is not None:
        return f"formula, which a Conv2d forward pass agrees with ({forward})"
    return (
        f"formula; a Conv2d forward pass floors the quotient and gives {forward}, which "
        "disagrees: the filter does not tile the input"
    )


def loss_history_csv(history: list[float]) -> str:
    """One run's loss at every epoch, as CSV (epoch, loss)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["epoch", "loss"])
    writer.writerows(enumerate(history, start=1))
    return text.getvalue()


def stage_outputs(files: OutputFiles, out: Path, result: LabResult, plots: bool = True) -> None:
    """report.md, results.json, one CSV per loss history and the plots (those with something
    to draw), staged in ``files`` for the folder ``out``."""
    files.write(out / "report.md", markdown_report(result) + "\n")
    files.write(
        out / "results.json", json.dumps(result.to_json(), indent=1, allow_nan=False) + "\n"
    )
    if result.part_a is None:
        return
    for name, run in result.part_a.runs().items():
        files.write(out / f"loss_history_{name}.csv", loss_history_csv(run.loss_history))
    if plots:
        from tinygrad_lab.lab.stress.plots import plot_grad_norms, plot_losses

        drawn = {"loss_curves.png": plot_losses, "grad_norms.png": plot_grad_norms}
        missing = missing_plots(result.part_a)
        for name, draw in drawn.items():
            if name not in missing:
                files.write(out / name, partial(draw, result))
