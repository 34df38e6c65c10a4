"""The time study's report, computed from its figures: the finding, the tables of medians and
quartiles, study.md, study.csv (long form, as the other studies'), study.json and the plots,
written whole (`OutputFiles`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tinygrad_lab.display import markdown_table
from tinygrad_lab.lab.output.tables import fmt
from tinygrad_lab.lab.sequences.study import LEARNED_BELOW, SettingResult, TimeResult
from tinygrad_lab.lab.stress.analysis import EXPLODING_GRI, VANISHING_GRI
from tinygrad_lab.lab.stress.compute import clean
from tinygrad_lab.lab.studies.compute import seed_range
from tinygrad_lab.lab.studies.findings import (
    _below,
    _first,
    _listing,
    _median_worst_diverged,
    _where,
    median,
    share_percent,
)
from tinygrad_lab.lab.studies.report import _setting_json, cell, write_files

TITLE = "Time study"
RATIO = "‖∂L/∂h₁‖ / ‖∂L/∂h_T‖"


# ------------------------------------------------------------------------------ the finding
def _crossings(result: TimeResult, name: str) -> tuple[str, list[str]]:
    """Where the median ratio ``name`` first falls below `VANISHING_GRI`, per cell (``at length
    10 for rnn_tanh and lstm, and never for gru up to length 40``), and the cells where it
    rises above `EXPLODING_GRI` at some length."""
    metric, longest = result.metric(name), max(result.study.lengths)
    falls: dict[int, list[str]] = {}
    never, exploding = [], []
    for cell_name, results in result.by_cell().items():
        length = _first(results, lambda r: _below(median(r, metric), VANISHING_GRI))
        (never if length is None else falls.setdefault(length, [])).append(cell_name)
        if _first(results, lambda r: (median(r, metric) or 0.0) > EXPLODING_GRI) is not None:
            exploding.append(cell_name)
    if not falls:
        return f"never, up to length {longest}", exploding
    text = "at " + _listing([f"length {n} for {_listing(c)}" for n, c in sorted(falls.items())])
    if never:
        text += f", and never for {_listing(never)} up to length {longest}"
    return text, exploding


def _ratio_sentence(result: TimeResult) -> str:
    """The GRI along time against the lab's thresholds, after training and before it."""
    after, exploding = _crossings(result, "ratio")
    before, exploding_before = _crossings(result, "ratio_init")
    text = (
        f"The median gradient ratio through time {RATIO} (the lab's GRI along time) falls "
        f"below {VANISHING_GRI} (vanishing, by the lab's threshold) after training {after}; "
        f"before training {before}"
    )
    for when, cells in (("after training", exploding), ("before training", exploding_before)):
        if cells:
            text += f"; it rises above {EXPLODING_GRI} (exploding) {when} for {_listing(cells)}"
    return text + "."


def _learns(setting: SettingResult, result: TimeResult) -> bool:
    """The median seed learns: its test MSE under `LEARNED_BELOW` of the baseline's (a run that
    diverged counts as worse than any that finished)."""
    return _median_worst_diverged(setting, result.metric("loss_ratio")) < LEARNED_BELOW


def _learning_sentence(result: TimeResult) -> str:
    """Per cell, up to which length the median seed learns, and where it stops (cells alike
    named together)."""
    longest = max(result.study.lengths)
    every, none, parts = [], [], []
    for cell_name, results in result.by_cell().items():
        ordered = sorted(results, key=lambda r: r.setting.value("length"))
        learns = [_learns(r, result) for r in ordered]
        lengths = [r.setting.value("length") for r in ordered]
        if all(learns) or not any(learns):
            (every if all(learns) else none).append(cell_name)
            continue
        stop = learns.index(False)
        again = [str(n) for n, ok in zip(lengths[stop:], learns[stop:], strict=True) if ok]
        if stop == 0:
            text = f"only at length {_listing(again)} for {cell_name}"
        else:
            text = f"up to length {lengths[stop - 1]} for {cell_name}, stopping at {lengths[stop]}"
            text += f" (and learning again at {_listing(again)})" if again else ""
        parts.append(text)
    if every:
        parts.append(f"at every length up to {longest} for {_listing(every)}")
    if none:
        parts.append(f"at no length studied for {_listing(none)}")
    if len(parts) > 1:  # the parts have commas of their own: semicolons between them
        parts = ["; ".join(parts[:-1]) + "; and " + parts[-1]]
    return (
        f"By the study's criterion (test MSE under {LEARNED_BELOW:g} of the mean predictor's), "
        f"the median seed learns the adding problem {parts[0]}."
    )


def _loss_sentence(result: TimeResult) -> str:
    """At the longest length, each cell's median test MSE against the baseline's."""
    longest = max(result.study.lengths)
    loss, baseline = result.metric("loss_ratio"), result.metric("baseline_mse")
    at_longest = [r for r in result.settings if r.setting.value("length") == longest]
    parts = [f"{fmt(median(r, loss), 3)} for {r.setting.value('cell')}" for r in at_longest]
    return (
        f"At length {longest} the median test MSE over the baseline's is {_listing(parts)} "
        f"(the baseline: always predicting the mean, the test targets' variance, median "
        f"{fmt(median(at_longest[0], baseline), 3)})."
    )


def _diverged_sentence(result: TimeResult) -> str:
    diverged = result.metric("diverged")
    most = max(result.settings, key=lambda r: r.share(diverged) or 0.0)
    if not most.share(diverged):
        return "No run diverged."
    count = sum(bool(r.share(diverged)) for r in result.settings)
    return (
        f"Training diverged in {count} of the {len(result.settings)} settings, most at "
        f"{_where(most)} ({share_percent(most, diverged)} of the seeds)."
    )


def finding(result: TimeResult) -> str:
    """One paragraph, every number in it read off the study's medians."""
    parts = [_ratio_sentence(result), _learning_sentence(result), _loss_sentence(result)]
    return " ".join([*parts, _diverged_sentence(result)])


# ------------------------------------------------------------------------------ documents
def tables(result: TimeResult) -> list[str]:
    """One Markdown table per cell: a row per length, a column per figure."""
    metrics = [m for m in result.metrics if m.table]
    lines = []
    for cell_name, results in result.by_cell().items():
        header = ["length"] + [m.title for m in metrics]
        rows = [[str(r.setting.value("length"))] + [cell(r, m) for m in metrics] for r in results]
        lines += [f"### {cell_name}", "", markdown_table(header, rows, fmt=str), ""]
    return lines


def what_was_run(result: TimeResult) -> str:
    """The sentence saying what was trained."""
    study = result.study
    runs = len(result.settings) * len(study.seeds)
    return (
        f"Cells {', '.join(study.cells)} × sequence length "
        f"{', '.join(map(str, study.lengths))}; each for seeds {seed_range(study.seeds)}: "
        f"{runs:,} trainings on the adding problem (two channels: U(0, 1) values and a marker "
        "with one 1 in the first half of the sequence and one in the second; the target is the "
        "sum of the two marked values). Each network is the cell's layer of "
        f"{study.hidden_size} units and a Linear head on the last hidden state h_T, trained "
        f"by Adam (lr {fmt(study.learning_rate)}) on the MSE for {study.steps} steps, each on "
        f"a fresh batch of {study.batch_size} sequences, then tested on "
        f"{study.test_sequences} others. Seed s draws the weights, the batches and the test "
        "set from three streams of `np.random.SeedSequence(s)`, the same for every cell. "
        f"{RATIO} is measured on the test set, before and after training, by a tensor hook "
        "on each step's hidden state."
    )


def markdown(result: TimeResult, plots: list[str] | None = None) -> str:
    """study.md: what was run, the finding, the tables, the plots."""
    lines = [f"# {TITLE}: the gradient through time", "", what_was_run(result), ""]
    lines += ["## Finding", "", finding(result), "", "## Medians and quartiles", ""]
    lines += [
        "Each cell is the median over the seeds with the quartiles in brackets, `median [q1, "
        "q3]`, and `(k/n seeds)` when only k of the n seeds define the figure (the ratio is "
        "undefined when ‖∂L/∂h_T‖ is 0 or training diverged); shares are of the seeds. A run "
        f"learned when its test MSE is under {LEARNED_BELOW:g} of the baseline's: a network "
        "that ignores the first marked value is left with at least half of it.",
        "",
        *tables(result),
    ]
    if plots:
        lines += ["## Plots", "", *[f"![{p}]({p})" for p in plots], ""]
    return "\n".join(lines)


def to_json(result: TimeResult) -> dict[str, Any]:
    """study.json (and ``--json``): what was run, each setting's summary and seeds (with every
    step's gradient norm and training loss), the finding."""
    study = result.study
    settings = []
    for setting in result.settings:
        document = _setting_json(result, setting)
        for seed, run in zip(document["seeds"], setting.seeds, strict=True):
            seed |= {
                "grad_norms_init": run.grad_norms_init,
                "grad_norms": run.grad_norms,
                "loss_history": run.loss_history,
            }
        settings.append(document)
    return clean(
        {
            "study": study.kind,
            "training": {
                "hidden_size": study.hidden_size,
                "batch_size": study.batch_size,
                "learning_rate": study.learning_rate,
                "steps": study.steps,
                "test_sequences": study.test_sequences,
                "learned_below": LEARNED_BELOW,
            },
            "seeds": list(study.seeds),
            "varied": {"cell": list(study.cells), "length": list(study.lengths)},
            "settings": settings,
            "finding": finding(result),
        }
    )


# ------------------------------------------------------------------------------ files
def write_time_study(result: TimeResult, out: Path, plots: bool = True) -> list[Path]:
    """study.md, study.csv, study.json and the plots into ``out``, as every study's
    (`studies.report.write_files`)."""
    plot = None
    if plots:
        from tinygrad_lab.lab.sequences.plots import plot_time_study as plot
    return write_files(result, out, markdown, to_json, plot)
