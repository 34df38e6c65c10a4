"""The time study's plots, drawn as the lab's other studies' (`study_plots`): each figure's
median over the seeds as a line, its quartiles as a band, one line per cell."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_lab.lab.output.files import OutputFiles
from tinygrad_lab.lab.output.plotting import pyplot, save_png
from tinygrad_lab.lab.sequences.study import LEARNED_BELOW, SettingResult, TimeResult
from tinygrad_lab.lab.studies.plots import _band, _panel, _thresholds


def plot_time_study(result: TimeResult, files: OutputFiles, out: Path) -> list[str]:
    """Draw the study's plots, each staged in ``files`` under ``out``; returns their names."""
    plt = pyplot()
    plots = (("ratio.png", ratio_figure), ("loss.png", loss_figure), ("steps.png", steps_figure))
    for name, draw in plots:
        fig = draw(result, plt)
        files.write(out / name, lambda handle, fig=fig: save_png(plt, fig, handle))
    return [name for name, _ in plots]


def _length(r: SettingResult) -> int:
    return r.setting.value("length")


def _lengths_axis(ax: Any, result: TimeResult) -> None:
    """Lengths on a log axis (they usually double), each studied one a tick."""
    lengths = sorted(result.study.lengths)
    ax.set_xticks(lengths, [str(n) for n in lengths])
    ax.minorticks_off()
    ax.set_xlabel("sequence length T")


def _title(result: TimeResult, what: str) -> str:
    study = result.study
    return (
        f"{what} — {len(study.seeds)} seeds, {study.steps} Adam steps a run\n"
        "(line: the median over the seeds; band: the quartiles)"
    )


def ratio_figure(result: TimeResult, plt: Any) -> Any:
    """‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ against the length, before and after training, on a log axis."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    for ax, name in zip(axes, ("ratio_init", "ratio"), strict=True):
        _panel(ax, result, result.metric(name), _length, log_x=True)
        ax.set_yscale("log")
        _thresholds(ax)
        _lengths_axis(ax, result)
    axes[0].set_ylabel("‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ (the GRI along time)")
    axes[0].legend(title="cell", fontsize=8)
    fig.suptitle(_title(result, "The gradient through time"), fontsize=11)
    return fig


def loss_figure(result: TimeResult, plt: Any) -> Any:
    """Test MSE over the baseline's, and the share of seeds that learned, against the length."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    _panel(axes[0], result, result.metric("loss_ratio"), _length, log_x=True)
    for level, text in (
        (1.0, "the mean predictor"),
        (0.5, "at best, ignoring the first value"),
        (LEARNED_BELOW, "learned, below this"),
    ):
        axes[0].axhline(level, color="grey", linestyle=":", linewidth=1)
        axes[0].annotate(
            text, (1, level), xycoords=("axes fraction", "data"), ha="right", va="bottom",
            fontsize=8, color="dimgrey",
        )  # fmt: skip
    axes[0].set_ylabel("test MSE / baseline MSE")
    _panel(axes[1], result, result.metric("learned"), _length, log_x=True)
    for ax in axes:
        _lengths_axis(ax, result)
    axes[0].legend(title="cell", fontsize=8)
    fig.suptitle(_title(result, "Learning the adding problem"), fontsize=11)
    return fig


def _norms(results: list[SettingResult], read: Callable[[Any], Any]) -> np.ndarray:
    """(3, T): q1, median and q3 over the seeds of ‖∂L/∂h_t‖ / ‖∂L/∂h_T‖ for every t."""
    rows = [np.asarray(read(run), float) for run in results[0].seeds if read(run) is not None]
    rows = [row / row[-1] for row in rows if row[-1] > 0]
    if not rows:
        return np.full((3, len(results[0].seeds[0].grad_norms_init)), np.nan)
    return np.percentile(np.array(rows), [25, 50, 75], axis=0)


def steps_figure(result: TimeResult, plt: Any) -> Any:
    """At the longest length, ‖∂L/∂h_t‖ / ‖∂L/∂h_T‖ for every step t: how the gradient fades
    step by step, before and after training."""
    longest = max(result.study.lengths)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    reads = (("before training", lambda r: r.grad_norms_init), ("after", lambda r: r.grad_norms))
    for ax, (when, read) in zip(axes, reads, strict=True):
        for k, (cell_name, results) in enumerate(result.by_cell().items()):
            at_longest = [r for r in results if _length(r) == longest]
            q = _norms(at_longest, read)
            _band(ax, np.arange(1, q.shape[1] + 1), q, cell_name, k, markers=False)
        ax.set_yscale("log")
        ax.set(xlabel="time step t", title=f"{when} training" if when == "after" else when)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("‖∂L/∂h_t‖ / ‖∂L/∂h_T‖")
    axes[0].legend(title="cell", fontsize=8)
    fig.suptitle(_title(result, f"The gradient at every step, length {longest}"), fontsize=11)
    return fig
