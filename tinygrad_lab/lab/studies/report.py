"""A study's report, computed from its figures: the finding, the table of medians and
quartiles, study.md, study.csv (long form), study.json and the plots, written whole."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tinygrad_lab.display import markdown_table
from tinygrad_lab.lab.output.files import OutputFiles
from tinygrad_lab.lab.output.tables import fmt
from tinygrad_lab.lab.stress.compute import clean
from tinygrad_lab.lab.studies.compute import (
    TITLES,
    Metric,
    SettingResult,
    StudyResult,
    fmt_value,
    seed_range,
)
from tinygrad_lab.lab.studies.findings import finding, share_percent

CSV_HEADER = ("study", "setting", "seed", "metric", "value")


# ------------------------------------------------------------------------------ the table
def cell(result: SettingResult, metric: Metric) -> str:
    """``median [q1, q3]``, with ``(k/n seeds)`` when only k of the n seeds define it; a
    share as a percentage of the seeds."""
    if metric.share:
        share = result.share(metric)
        return "undefined" if share is None else share_percent(result, metric)
    d = result.distribution(metric)
    if d.median is None:
        return "undefined"
    text = f"{fmt(d.median, 3)} [{fmt(d.q1, 3)}, {fmt(d.q3, 3)}]"
    return text + (f" ({d.runs - d.undefined}/{d.runs} seeds)" if d.undefined else "")


def tables(result: StudyResult) -> list[str]:
    """One Markdown table per activation (and, in the init study, per run): a row per setting,
    a column per figure."""
    study, config = result.study, result.study.config
    name = study.varied()[0]
    runs = [("", "")]
    if study.kind == "init":
        after = config.hidden_layers + config.added_layers
        runs = [
            ("run1.", f", run 1 ({config.hidden_layers} hidden layers)"),
            ("run2.", f", run 2 (after the break: {after} hidden layers)"),
        ]
    lines = []
    for activation, results in result.by_activation().items():
        for prefix, title in runs:
            metrics = [m for m in result.metrics if m.table and m.name.startswith(prefix)]
            header = [name] + [m.title for m in metrics]
            rows = [
                [fmt_value(r.setting.value(name))] + [cell(r, m) for m in metrics] for r in results
            ]
            lines += [f"### {activation}{title}", "", markdown_table(header, rows, fmt=str), ""]
    return lines


# ------------------------------------------------------------------------------ documents
def what_was_run(result: StudyResult) -> str:
    """The sentence saying what was trained, with the roll's rules it kept."""
    study, config = result.study, result.study.config
    name, values = study.varied()
    trainings = len(result.settings) * len(study.seeds)
    shown = ", ".join(fmt_value(v) for v in values)
    kept = {
        "depth": f"learning rate {fmt(config.learning_rate)}",
        "init": f"depth {config.hidden_layers}, learning rate {fmt(config.learning_rate)}",
        "lr": f"depth {config.hidden_layers}",
    }[study.kind]
    bound = f"1/{config.a + 1}"  # the rule's U(−1/(a+1), +1/(a+1))
    init = "" if study.kind == "init" else f", init U(−{bound}, +{bound})"
    text = (
        f"For roll {config.roll}: {name} {shown} × activation {', '.join(study.activations)}; "
        f"each for seeds {seed_range(study.seeds)}, {study.epochs} epochs of full-batch "
        f"gradient descent at the roll's width {config.hidden_width}, {kept}{init}: "
        f"{trainings:,} trainings. Seed s draws X, then the weights in layer order, as "
        f"`tinygrad-lab stress-test --seed s` does"
    )
    if study.kind == "init":
        text += (
            f"; after run 1, the structural break inserts {config.added_layers} hidden layers "
            "before the output layer (drawn with the same init) and run 2 trains again"
        )
    return text + "."


def markdown(result: StudyResult, plots: list[str] | None = None) -> str:
    """study.md: what was run, the finding, the tables, the plots."""
    study, config = result.study, result.study.config
    lines = [
        f"# {TITLES[study.kind]} — roll {config.roll}",
        "",
        what_was_run(result),
        "",
    ]
    lines += [f"> Assumed default: {a}" for a in config.assumptions]
    lines += ["", "## Finding", "", finding(result), "", "## Medians and quartiles", ""]
    lines += [
        "Each cell is the median over the seeds with the quartiles in brackets, `median [q1, "
        "q3]`, and `(k/n seeds)` when only k of the n seeds define the figure (GRI is undefined "
        "when a gradient norm is 0 or training diverged); shares are of the seeds. ‖∇W_first‖ "
        "and ‖∇W_last‖ are at the last epoch, R² is against the mean predictor.",
        "",
        *tables(result),
    ]
    if plots:
        lines += ["## Plots", "", *[f"![{p}]({p})" for p in plots], ""]
    return "\n".join(lines)


def to_json(result: StudyResult) -> dict[str, Any]:
    """study.json (and ``--json``): what was run, each setting's summary and seeds, the finding."""
    study, config = result.study, result.study.config
    name, values = study.varied()
    return clean(
        {
            "study": study.kind,
            "roll": config.roll,
            "config": {**config.network(), "assumptions": config.assumptions},
            "epochs": study.epochs,
            "seeds": list(study.seeds),
            "varied": {"activation": list(study.activations), name: list(values)},
            "settings": [_setting_json(result, r) for r in result.settings],
            "finding": finding(result),
        }
    )


def _setting_json(result: StudyResult, setting: SettingResult) -> dict[str, Any]:
    summary = {
        m.name: (
            {"share": setting.share(m), "runs": len(setting.seeds)}
            if m.share
            else setting.distribution(m).to_json()
        )
        for m in result.metrics
    }
    return {
        "setting": setting.setting.label,
        "parameters": dict(setting.setting.parameters),
        "summary": summary,
        "seeds": [
            {"seed": seed.seed, **{m.name: m.value(seed) for m in result.metrics}}
            for seed in setting.seeds
        ],
    }


def csv_text(result: StudyResult) -> str:
    """study.csv: one row a (setting, seed, figure); an undefined figure is an empty cell."""
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for study, setting, seed, metric, value in result.rows():
        writer.writerow([study, setting, seed, metric, "" if clean(value) is None else value])
    return handle.getvalue()


# ------------------------------------------------------------------------------ files
def write_study(result: StudyResult, out: Path, plots: bool = True) -> list[Path]:
    """study.md, study.csv, study.json and the plots into ``out`` (`write_files`)."""
    plot = None
    if plots:
        from tinygrad_lab.lab.studies.plots import plot_study as plot
    return write_files(result, out, markdown, to_json, plot)


def write_files(
    result: Any, out: Path, markdown: Callable, to_json: Callable, plot: Callable | None
) -> list[Path]:
    """A study's study.md, study.csv, study.json and (by ``plot``) its plots into ``out``,
    written together (`OutputFiles`): an interrupted study leaves no file that looks complete.
    Every kind's, the time study's too: its ``markdown``, ``to_json`` and ``plot``."""
    with OutputFiles() as files:
        names = plot(result, files, out) if plot is not None else []
        files.write(out / "study.md", markdown(result, names) + "\n")
        files.write(out / "study.csv", csv_text(result))
        files.write(out / "study.json", json.dumps(to_json(result), allow_nan=False))
    return files.written
