"""The lab's plots (matplotlib, optional extra ``plot``), drawn from `LabResult`s."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, BinaryIO

# pyplot, save_png and PLOT_HINT were defined here: kept importable from here
from tinygrad_lab.lab.output.plotting import PLOT_HINT, pyplot, save_png  # noqa: F401

if TYPE_CHECKING:
    from tinygrad_lab.lab.stress.compute import LabResult
    from tinygrad_lab.lab.stress.part_a import RunResult, StressResult


def _positive(value: float | None) -> bool:
    """A value a log-scale plot can show."""
    return value is not None and math.isfinite(value) and value > 0


def missing_plots(stress: StressResult) -> dict[str, str]:
    """The lab's plots that would have nothing to draw (diverged runs), by file name, each
    with the reason; they are not drawn."""
    missing = {}
    if not any(run.loss_history for run in stress.runs().values()):
        missing["loss_curves.png"] = "no epoch of any run had a finite loss"
    series = stress.weight_grad_norm_series.values()
    if not any(_positive(v) for values in series for v in values):
        missing["grad_norms.png"] = "no epoch had a finite, non-zero weight gradient"
    return missing


def _run_label(number: int, run: RunResult) -> str:
    label = f"run {number} ({run.hidden_layers} hidden)"
    if run.diverged_at is not None:
        finite = "no finite loss" if not run.loss_history else "loss not finite"
        label += f", {finite} from epoch {run.diverged_at}"
    return label


def plot_losses(result: LabResult, file: BinaryIO) -> None:
    """Loss per epoch of the three runs, one after the other, with the break marked (and where
    a run diverged, its legend says from which epoch its loss is not finite)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    start = 0
    for number, run in enumerate(result.part_a.runs().values(), start=1):
        if number == 2:
            ax.axvline(
                start + 0.5, color="grey", linestyle="--", linewidth=1, label="structural break"
            )
        epochs = range(start + 1, start + len(run.loss_history) + 1)
        ax.plot(epochs, run.loss_history, label=_run_label(number, run))
        start += run.epochs_run
    ax.axhline(
        result.part_a.mean_predictor_loss,
        color="black",
        linestyle=":",
        linewidth=1,
        label="mean predictor",
    )
    ax.set(
        xlabel="epoch (runs 1, 2 and 3 in sequence)",
        ylabel="MSE loss",
        title=f"Loss curves — roll {result.run.roll}, seed {result.run.seed}",
    )
    ax.legend()
    save_png(plt, fig, file)


def plot_grad_norms(result: LabResult, file: BinaryIO) -> None:
    """Weight-gradient norm of every Linear layer over all epochs (log scale)."""
    plt = pyplot()
    series = result.part_a.weight_grad_norm_series
    stride = result.part_a.weight_grad_norm_series_stride
    fig, ax = plt.subplots(figsize=(8, 4.5))
    cmap = plt.get_cmap("viridis")
    for k, (label, values) in enumerate(series.items()):
        steps = range(1, stride * len(values) + 1, stride)
        points = [(step, v) for step, v in zip(steps, values, strict=True) if _positive(v)]
        if points:
            steps, norms = zip(*points, strict=True)
            ax.plot(
                steps, norms, color=cmap(k / max(len(series) - 1, 1)), label=label, linewidth=1.2
            )
    ax.axvline(
        result.part_a.run1.epochs_run + 0.5,
        color="grey",
        linestyle="--",
        linewidth=1,
    )
    ax.set_yscale("log")
    ax.set(
        xlabel="epoch (runs 1, 2 and 3 in sequence)",
        ylabel="‖∇W‖ (Frobenius)",
        title="Per-layer weight-gradient norms (layer labels as in run 2)"
        + (f", one step in {stride}" if stride > 1 else ""),
    )
    ax.legend(fontsize=7, ncol=2)
    save_png(plt, fig, file)


def plot_gri_seeds(results: list[LabResult], file: BinaryIO) -> None:
    """GRI of run 1 against run 2 for every seed; undefined GRIs are listed in the title."""
    plt = pyplot()
    pairs = [(r.part_a.run1.gri, r.part_a.run2.gri) for r in results]
    defined = [(a, b) for a, b in pairs if a is not None and b is not None]
    fig, ax = plt.subplots(figsize=(6, 5.5))
    if defined:
        x, y = zip(*defined, strict=True)
        ax.scatter(x, y, s=18, alpha=0.8)
        low, high = min(x + y), max(x + y)
        ax.plot(
            [low, high],
            [low, high],
            color="grey",
            linestyle="--",
            linewidth=1,
            label="GRI unchanged",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend()
    undefined = len(pairs) - len(defined)
    ax.set(
        xlabel="GRI, run 1",
        ylabel="GRI, run 2 (after the break)",
        title=f"GRI across {len(pairs)} seeds — roll {results[0].run.roll}"
        + (f" ({undefined} undefined)" if undefined else ""),
    )
    save_png(plt, fig, file)
