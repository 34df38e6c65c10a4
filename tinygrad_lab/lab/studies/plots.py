"""A study's plots: each figure's median over the seeds as a line, its quartiles as a band, one
line per activation (or init); an axis is logarithmic where the figure spans decades."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_lab.lab.output.files import OutputFiles
from tinygrad_lab.lab.output.plotting import pyplot, save_png
from tinygrad_lab.lab.stress.analysis import EXPLODING_GRI, VANISHING_GRI
from tinygrad_lab.lab.studies.compute import TITLES, Metric, SettingResult, StudyResult, fmt_value

DECADES = 2  # a figure whose values span more than this many decades is drawn on a log axis


def plot_study(result: StudyResult, files: OutputFiles, out: Path) -> list[str]:
    """Draw the study's plots, each staged in ``files`` under ``out``; returns their names."""
    plt = pyplot()
    plots = {"depth": _depth_plots, "init": _init_plots, "lr": _lr_plots}[result.study.kind]
    names = []
    for name, draw in plots(result):
        fig = draw(plt)
        files.write(out / name, lambda handle, fig=fig: save_png(plt, fig, handle))
        names.append(name)
    return names


def _quartiles(results: list[SettingResult], metric: Metric) -> np.ndarray:
    """(3, settings): each setting's q1, median and q3 (NaN where no seed defines it)."""
    rows = []
    for r in results:
        d = r.distribution(metric)
        rows.append([np.nan if v is None else v for v in (d.q1, d.median, d.q3)])
    return np.array(rows, dtype=float).T


def _shares(results: list[SettingResult], metric: Metric) -> np.ndarray:
    return np.array([np.nan if r.share(metric) is None else 100 * r.share(metric) for r in results])


STYLES = ("-", "--", "-.", ":")  # lines that overlap (ReLU and leaky ReLU) stay apart
MARKERS = ("o", "s", "^", "D", "v")


def _style(k: int, markers: bool = True) -> dict[str, Any]:
    """The k-th line's colour, dash and marker."""
    marker = MARKERS[k % len(MARKERS)] if markers else ""
    return {"color": f"C{k}", "linestyle": STYLES[k % len(STYLES)], "marker": marker}


def _band(ax: Any, x: Any, q: np.ndarray, label: str, k: int, markers: bool = True) -> None:
    style = _style(k, markers)
    ax.fill_between(x, q[0], q[2], color=style["color"], alpha=0.2, linewidth=0)
    ax.plot(x, q[1], markersize=4, label=label, linewidth=1.6, **style)


def _scale(ax: Any, values: list[np.ndarray], axis: str = "y") -> None:
    """A log axis when the values are all positive and span more than `DECADES` decades."""
    flat = np.concatenate([np.ravel(v) for v in values])
    flat = flat[np.isfinite(flat)]
    if len(flat) and flat.min() > 0 and np.log10(flat.max() / flat.min()) > DECADES:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def _thresholds(ax: Any) -> None:
    for level, text in ((VANISHING_GRI, "vanishing"), (EXPLODING_GRI, "exploding")):
        ax.axhline(level, color="grey", linestyle=":", linewidth=1)
        ax.annotate(
            f"{text} ({level:g})",
            (1, level),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            fontsize=8,
            color="dimgrey",
        )


def _panel(ax: Any, result: StudyResult, metric: Metric, x_of: Callable, log_x: bool) -> None:
    """One figure of the study against the varied value, a line per activation."""
    drawn = []
    for k, (activation, results) in enumerate(result.by_activation().items()):
        x = [x_of(r) for r in results]
        if metric.share:
            values = _shares(results, metric)
            ax.plot(x, values, markersize=4, label=activation, **_style(k))
        else:
            values = _quartiles(results, metric)
            _band(ax, x, values, activation, k)
        drawn.append(values)
    if log_x:
        ax.set_xscale("log")
    else:  # depths: whole numbers
        ax.xaxis.get_major_locator().set_params(integer=True)
    if metric.share:
        ax.set_ylim(-3, 103)
    else:
        _scale(ax, drawn)
    ax.set_title(metric.title + (" (% of seeds)" if metric.share else ""), fontsize=10)
    ax.grid(True, which="major", alpha=0.3)


def _title(result: StudyResult, what: str) -> str:
    study = result.study
    return (
        f"{what} — roll {study.config.roll}, {len(study.seeds)} seeds, {study.epochs} epochs "
        "a run\n(line: the median over the seeds; band: the quartiles)"
    )


# ------------------------------------------------------------------------------ the studies
def _depth_plots(result: StudyResult) -> list[tuple[str, Callable]]:
    def depth(r: SettingResult) -> int:
        return r.setting.value("depth")

    def gri(plt: Any) -> Any:
        """GRI beside both norms it divides: a ratio of two collapsed norms can read as 1."""
        fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
        _panel(axes[0], result, result.metric("gri"), depth, log_x=False)
        axes[0].set_yscale("log")
        _thresholds(axes[0])
        axes[0].set(xlabel="hidden layers", ylabel="GRI = ‖∇W_first‖ / ‖∇W_last‖")
        axes[0].set_title("GRI (at depth 1: 1 by construction)", fontsize=10)
        for ax, name in zip(axes[1:], ("grad_norm_first", "grad_norm_last"), strict=True):
            _panel(ax, result, result.metric(name), depth, log_x=False)
            ax.set_title(f"{result.metric(name).title} at the last epoch", fontsize=10)
            ax.set(xlabel="hidden layers", ylabel="gradient norm")
        axes[0].legend(title="activation")
        fig.suptitle(_title(result, "GRI and the gradient norms against depth"), fontsize=11)
        return fig

    names = ("grad_norm_first", "grad_norm_last", "final_loss", "r2", "dead_layer", "diverged")
    return [("gri.png", gri), ("figures.png", _grid(result, names, depth, "hidden layers"))]


def _lr_plots(result: StudyResult) -> list[tuple[str, Callable]]:
    names = ("final_loss", "r2", "gri", "grad_norm_first", "diverged", "dead_layer")
    own = result.study.config.learning_rate

    def mark(ax: Any) -> None:
        ax.axvline(
            own, color="black", linestyle="--", linewidth=1, label=f"roll's own rate {own:g}"
        )

    lr = _grid(result, names, lambda r: r.setting.value("lr"), "learning rate", True, mark)
    return [("lr.png", lr)]


def _grid(
    result: StudyResult,
    names: tuple[str, ...],
    x_of: Callable,
    xlabel: str,
    log_x: bool = False,
    mark: Callable[[Any], None] | None = None,
) -> Callable:
    """A panel per figure in ``names``; ``mark`` draws on each (e.g. the roll's own rate)."""

    def draw(plt: Any) -> Any:
        columns = 3 if len(names) > 4 else 2
        rows = -(-len(names) // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows))
        for ax, name in zip(np.ravel(axes), names, strict=True):
            _panel(ax, result, result.metric(name), x_of, log_x)
            ax.set_xlabel(xlabel)
            if mark is not None:
                mark(ax)
        np.ravel(axes)[0].legend(title="activation", fontsize=8)
        fig.suptitle(_title(result, TITLES[result.study.kind]), fontsize=11)
        return fig

    return draw


def _init_plots(result: StudyResult) -> list[tuple[str, Callable]]:
    groups = result.by_activation()
    config = result.study.config
    depths = (config.hidden_layers, config.hidden_layers + config.added_layers)
    ticks = [f"run 1\n({depths[0]} hidden)", f"run 2, after the break\n({depths[1]} hidden)"]
    panels = (("gri", "GRI"), ("grad_norm_first", "‖∇W_first‖ (last epoch)"))

    def draw(plt: Any) -> Any:
        fig, axes = plt.subplots(len(groups), 2, figsize=(12, 4.8 * len(groups)), squeeze=False)
        for row, (activation, results) in zip(axes, groups.items(), strict=True):
            for ax, (name, title) in zip(row, panels, strict=True):
                for k, r in enumerate(results):
                    metrics = [result.metric(f"{run}.{name}") for run in ("run1", "run2")]
                    q = np.concatenate([_quartiles([r], m) for m in metrics], axis=1)
                    _band(ax, [0, 1], q, fmt_value(r.setting.value("init")), k)
                ax.set_yscale("log")
                if name == "gri":
                    _thresholds(ax)
                ax.set_xticks([0, 1], ticks)
                ax.set_xlim(-0.25, 1.25)
                ax.set_title(f"{title} — {activation}", fontsize=10)
                ax.grid(True, which="major", alpha=0.3)
            row[0].legend(title="init", fontsize=8)
        fig.suptitle(_title(result, "Gradients by init"), fontsize=11)
        return fig

    return [("gradients.png", draw), ("loss.png", _loss_curves(result, groups))]


def _loss_curves(result: StudyResult, groups: dict[str, list[SettingResult]]) -> Callable:
    """The loss at every epoch of runs 1 and 2, median and quartiles over the seeds."""

    def history(r: SettingResult) -> np.ndarray:
        epochs = result.study.epochs
        rows = np.full((len(r.seeds), 2 * epochs), np.nan)
        for k, seed in enumerate(r.seeds):
            for offset, run in ((0, seed.run1), (epochs, seed.run2)):
                rows[k, offset : offset + len(run.loss_history)] = run.loss_history
        return rows

    def draw(plt: Any) -> Any:
        fig, axes = plt.subplots(1, len(groups), figsize=(9 * len(groups), 5), squeeze=False)
        for ax, (activation, results) in zip(axes[0], groups.items(), strict=True):
            for k, r in enumerate(results):
                rows = history(r)
                defined = np.isfinite(rows).any(axis=0)
                q = np.full((3, rows.shape[1]), np.nan)
                q[:, defined] = np.nanpercentile(rows[:, defined], [25, 50, 75], axis=0)
                label = fmt_value(r.setting.value("init"))
                _band(ax, np.arange(1, rows.shape[1] + 1), q, label, k, markers=False)
            ax.axvline(result.study.epochs + 0.5, color="grey", linestyle="--", linewidth=1)
            ax.set_yscale("log")
            ax.set(xlabel="epoch (runs 1 and 2 in sequence; dashed: the break)", ylabel="MSE loss")
            ax.set_title(activation)
            ax.legend(title="init", fontsize=8)
        fig.suptitle(_title(result, "Training loss by init"), fontsize=11)
        return fig

    return draw
