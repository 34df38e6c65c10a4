"""The lab's report (Markdown), results.json and CSV files, rendered from `compute_lab`'s dict."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from tinygrad_lab.lab.analysis import EXPLODING_GRI, NO_LEARNING_R2, VANISHING_GRI


def fmt(value: Any, digits: int = 6) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _run_section(title: str, run: dict[str, Any], memory: dict[str, Any] | None) -> list[str]:
    lines = [f"### {title}: {run['hidden_layers']} hidden layers", ""]
    lines += _table(["epoch", "loss"], [[int(e), v] for e, v in run["losses"].items()])
    if run["diverged_at"] is not None:
        lines += [
            f"**The loss stopped being finite at epoch {run['diverged_at']}**; training "
            "stopped there.",
            "",
        ]
    gri = (
        fmt(run["gri"])
        if run["gri"] is not None
        else (f"undefined ({run['gri_undefined_reason']})")
    )
    lines += [
        f"- ‖∇W_first‖ (first weight matrix, last epoch) = {fmt(run['grad_norm_first'])}",
        f"- ‖∇W_last‖ (weight matrix of the last hidden layer, `grads_W[-2]`) = "
        f"{fmt(run['grad_norm_last'])}",
        f"- **GRI** = ‖∇W_first‖ / ‖∇W_last‖ = {gri}",
        f"- R² against the mean predictor = {fmt(run['r2'], 4)} (final loss "
        f"{fmt(run['final_loss'])})",
        f"- **Diagnosis: {run['diagnosis']['verdict']}.** {run['diagnosis']['explanation']}",
        "",
        "Every layer at the last epoch (gradient norms; dead fraction = share of units that output "
        "0 for every example):",
        "",
    ]
    rows = []
    for label, norms in run["layer_grad_norms"].items():
        rows.append(
            [
                label,
                norms.get("weight_grad_norm"),
                norms.get("bias_grad_norm"),
                norms.get("output_grad_norm"),
                run["dead_fractions"].get(label),
            ]
        )
    lines += _table(
        ["layer", "‖∇W‖", "‖∇b‖", "‖∂L/∂output‖", "dead fraction"],
        [[r[0]] + [("—" if v is None else v) for v in r[1:]] for r in rows],
    )
    if memory:
        lines += [
            "Bytes each layer's training forward pass saves for backward (freed by backward):",
            "",
        ]
        lines += _table(["layer", "bytes saved"], [[k, v] for k, v in memory["per_layer"].items()])
        lines += [
            f"Total: {memory['total']:,} bytes; the same forward pass under `no_grad` (inference) "
            f"saves {memory['no_grad_total']:,} bytes.",
            "",
        ]
    return lines


def markdown_report(results: dict[str, Any]) -> str:
    """The lab's answers, with every figure taken from ``results``."""
    cfg = results["config"]
    lines = [f"# Lab 6 — Deep network structural stress test: roll number {results['roll']}", ""]
    lines += [
        f"Computed by tinygrad_lab with seed {results['seed']} and {results['epochs']} "
        "epochs a run. A run with seed s reproduces the course notebook's code run after "
        "`np.random.seed(s)`.",
        "",
    ]
    if cfg["assumptions"]:
        lines += ["> **Assumed defaults** (the course documents leave these rules open):"]
        lines += [f"> - {a}" for a in cfg["assumptions"]] + [""]
    lines += [f"## Configuration (a = {cfg['a']}, b = {cfg['b']}, c = {cfg['c']})", ""]
    lines += _table(
        ["quantity", "rule", "value"],
        [[r["quantity"], r["rule"], r["value"]] for r in cfg["rules"]],
    )
    if "part_a" in results:
        lines += _part_a(results)
    if "q2" in results:
        q2 = results["q2"]
        lines += [
            "## Q2 by experiment: without activations, one affine map remains",
            "",
            f"The trained run-2 network's {q2['linear_layers']} Linear layers with every "
            "activation replaced by Identity were multiplied out into a single `x @ W + b` "
            f"(W of shape {len(q2['weight'])}×{len(q2['weight'][0])}, rank {q2['rank']}). "
            f"It reproduces the network's output to within {fmt(q2['max_abs_difference'], 3)}"
            f" (rounding error), so the effective number of linear layers is "
            f"**{q2['effective_linear_layers']}**: depth without non-linearity adds no "
            "representational power; the model is linear regression.",
            "",
        ]
    if "part_b" in results:
        lines += _part_b(results["part_b"])
    return "\n".join(lines)


def _part_a(results: dict[str, Any]) -> list[str]:
    part, cfg = results["part_a"], results["config"]
    run1, run2 = part["run1"], part["run2"]
    lines = [
        "## Part A — gradient-flow stress test",
        "",
        f"Data: N = 400, X ~ U(−2, 2)³, y = sin(x0) + 0.5·x1² − 0.8·x2. The mean predictor's "
        f"loss (variance of y) is {fmt(part['mean_predictor_loss'])}.",
        "",
        f"Diagnosis thresholds: vanishing when GRI < {VANISHING_GRI}, exploding when GRI > "
        f"{EXPLODING_GRI} or the loss is not finite, dead network when an activation layer "
        f"outputs 0 for every example (or GRI is 0/0); R² < {NO_LEARNING_R2} means the "
        "network learned little beyond the mean.",
        "",
    ]
    memory = results.get("memory", {})
    lines += _run_section("Run 1", run1, memory.get("run1"))
    lines += [
        "### The structural break",
        "",
        f"{run2['hidden_layers'] - run1['hidden_layers']} hidden layers inserted just "
        "before the output layer, trained weights kept, then the same training again.",
        "",
    ]
    lines += _run_section("Run 2", run2, memory.get("run2"))
    change = part["gri_change"]
    if change is None:
        verdict = "cannot be compared: a GRI is undefined"
    else:
        verdict = ("fell" if change < 1 else "rose") + f" by a factor of {fmt(change, 3)}"
    lines += [
        "### What the figures say",
        "",
        f"- Q1: GRI went from {fmt(run1['gri'], 4)} (run 1) to {fmt(run2['gri'], 4)} (run 2): "
        f"it {verdict}. GRI > 1 means the first layer receives a larger weight gradient than "
        "the last hidden layer, < 1 a smaller one; one seed is not evidence — run "
        "`--seeds 0-49` to see how much GRI varies between seeds.",
        f"- Q3: depth did {'not ' if run2['final_loss'] >= run1['final_loss'] else ''}"
        f"lower the loss: run 1 ended at {fmt(run1['final_loss'])}, run 2 at "
        f"{fmt(run2['final_loss'])} (R² {fmt(run1['r2'], 3)} → {fmt(run2['r2'], 3)}).",
        f"- Q4: a solution that ignored the roll-number rules shows at once in the "
        f"architecture: this roll needs width {cfg['hidden_width']}, "
        f"{cfg['hidden_layers']} hidden layers, learning rate {fmt(cfg['learning_rate'])}, "
        f"{cfg['activation']} activations, init ±{fmt(cfg['init_range'], 4)} and "
        f"{cfg['added_layers']} layers added at the break.",
        f"- Q5: in run 2 the first layer's weight gradient is {fmt(run2['grad_norm_first'])} "
        f"against {fmt(run2['grad_norm_last'])} at the last hidden layer.",
        "",
    ]
    return lines


def _part_b(part: dict[str, Any]) -> list[str]:
    size = part["output_size_config"]
    size_text = (
        str(part["output_size"])
        if part["output_size"] is not None
        else f"**error**: {part['output_size_error']}"
    )
    lines = ["## Part B — structural reading", ""]
    lines += _table(
        ["quantity", "value", "how it was computed"],
        [
            [
                "dense parameters",
                part["dense_parameters"],
                f"{part['dense_layer']}.num_parameters()",
            ],
            ["conv parameters", part["conv_parameters"], f"{part['conv_layer']}.num_parameters()"],
            [
                f"output size (N={size['N']}, F={size['F']}, S={size['S']}, P={size['P']})",
                size_text,
                f"formula, checked against a Conv2d forward pass ({part['output_size_forward']})",
            ],
            [
                "manual convolution (centre 3×3 region)",
                part["manual_convolution"],
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
    lines += [f"- {note}" for note in part["notes"]] + [""]
    return lines


def write_outputs(out: Path, results: dict[str, Any], plots: bool = True) -> list[Path]:
    """report.md, results.json, one CSV per loss history and the plots, into ``out``."""
    written = [out / "report.md", out / "results.json"]
    written[0].write_text(markdown_report(results) + "\n")
    written[1].write_text(json.dumps(results, indent=1, allow_nan=False) + "\n")
    for name in ("run1", "run2"):
        if "part_a" in results:
            path = out / f"loss_history_{name}.csv"
            with open(path, "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["epoch", "loss"])
                writer.writerows(enumerate(results["part_a"][name]["loss_history"], start=1))
            written.append(path)
    if plots and "part_a" in results:
        from tinygrad_lab.lab.plots import plot_grad_norms, plot_losses

        written += [
            plot_losses(results, out / "loss_curves.png"),
            plot_grad_norms(results, out / "grad_norms.png"),
        ]
    return written
