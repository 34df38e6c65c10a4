"""What the command line prints and writes for one run, a seed sweep, or a class roster."""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from json import dumps
from pathlib import Path
from typing import Any

from tinygrad_lab.display import markdown_table
from tinygrad_lab.lab.check import CheckResult, format_check
from tinygrad_lab.lab.compute import LabResult, rules_json
from tinygrad_lab.lab.report import fmt, markdown_report, write_outputs
from tinygrad_lab.lab.rules import LabConfig
from tinygrad_lab.lab.sweep import Distribution, SweepSummary, summarise


@dataclass(frozen=True)
class Figure:
    """A key figure: its name (its path in the JSON, e.g. ``part_a.run1.gri``) and its value in
    a result (None where undefined)."""

    name: str
    value: Callable[[LabResult], Any]


def _run_figures(run: str, epochs: list[int]) -> list[Figure]:
    def part(result: LabResult) -> Any:
        return result.part_a.runs()[run]

    figures = [
        Figure(f"part_a.{run}.losses.{e}", lambda r, e=e: part(r).losses.get(e)) for e in epochs
    ]
    figures.append(Figure(f"part_a.{run}.final_loss", lambda r: part(r).final_loss))
    for name in ("grad_norm_first", "grad_norm_last", "gri", "r2"):
        figures.append(Figure(f"part_a.{run}.{name}", lambda r, name=name: getattr(part(r), name)))
    return figures


def key_figures(result: LabResult) -> list[Figure]:
    """The figures a sweep summarises and seeds.csv / class_summary.csv list, for the parts in
    ``result``: each run's loss at its reported epochs (1, 100, the last) and its final loss,
    the gradient norms, GRI and R², then Part B's answers."""
    figures = []
    if result.part_a is not None:
        for run in ("run1", "run2"):
            figures += _run_figures(run, result.run.reported_epochs)
    if result.part_b is not None:
        for name in ("dense_parameters", "conv_parameters", "output_size", "manual_convolution"):
            figures.append(Figure(f"part_b.{name}", lambda r, name=name: getattr(r.part_b, name)))
    return figures


def _print_json(value: Any) -> None:
    print(dumps(value, allow_nan=False))


def write_single(
    result: LabResult, out: Path | None, json: bool = False, plots: bool = True
) -> None:
    """One run: the report (or, with ``json``, the JSON object) on stdout, and its files in
    ``out``."""
    if json:
        _print_json(result.to_json())
    else:
        print(markdown_report(result))
    if out is not None:
        written = write_outputs(out, result, plots=plots)
        if not json:
            print("\nwrote " + ", ".join(str(p) for p in written))


def sweep_table(results: list[LabResult]) -> str:
    """Median, quartiles and range of Part A's key figures over the runs (the final loss is the
    last reported epoch's, so it is not repeated)."""
    rows = []
    for figure in key_figures(results[0]):
        if figure.name.startswith("part_a.") and not figure.name.endswith(".final_loss"):
            entry = Distribution.of(figure.value(r) for r in results)
            stats = [getattr(entry, k) for k in ("median", "q1", "q3", "min", "max")]
            rows.append([figure.name.removeprefix("part_a."), *stats, entry.undefined])
    header = ["figure", "median", "q1", "q3", "min", "max", "undefined"]
    return markdown_table(header, rows, fmt=lambda value: fmt(value, 4))


def _sweep_text(results: list[LabResult], summary: SweepSummary) -> str:
    return "\n".join(
        [
            f"# Roll {results[0].run.roll}: {summary.runs} seeds "
            f"({summary.seeds[0]}…{summary.seeds[-1]})",
            "",
            sweep_table(results),
            "",
            f"- GRI fell after the break in {fmt(summary.gri_fell_share, 3)} of the "
            f"{summary.gri_defined_runs} seeds where both GRIs are defined.",
            f"- A layer was dead (every unit 0 for every example) in "
            f"{fmt(summary.dead_layer_share, 3)} of the seeds.",
            *[f"- Assumed default: {a}" for a in results[0].run.config.assumptions],
            "",
        ]
    )


def write_sweep(
    results: list[LabResult], out: Path | None, json: bool = False, plots: bool = True
) -> None:
    """Several seeds of one roll: the summary on stdout, and sweep.md, sweep.json, seeds.csv
    and the GRI plot in ``out``."""
    has_part_a = results[0].part_a is not None
    summary = summarise(results) if has_part_a else None
    text = _sweep_text(results, summary) if summary else ""
    document = {
        "summary": summary.to_json() if summary else {"runs": len(results)},
        "runs": [r.to_json() for r in results],
    }
    if json:
        _print_json(document)
    else:
        print(text)
    if out is not None:
        (out / "sweep.md").write_text(text)
        (out / "sweep.json").write_text(dumps(document, allow_nan=False))
        _figures_csv(out / "seeds.csv", results)
        if has_part_a and plots:
            from tinygrad_lab.lab.plots import plot_gri_seeds

            plot_gri_seeds(results, out / "gri_seeds.png")


def _csv_cell(value: Any) -> Any:
    """None and non-finite figures (the JSON's null) as empty cells."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def _figures_csv(path: Path, results: list[LabResult]) -> None:
    figures = key_figures(results[0])
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["roll", "seed", "activation", "added_layers", "assumed_defaults"]
            + [figure.name for figure in figures]
        )
        for result in results:
            config = result.run.config
            writer.writerow(
                [
                    result.run.roll,
                    result.run.seed,
                    config.activation,
                    config.added_layers,
                    "; ".join(config.assumptions),
                ]
                + [_csv_cell(figure.value(result)) for figure in figures]
            )


def write_class(
    results: list[LabResult], out: Path, json: bool = False, plots: bool = True
) -> None:
    """One folder per roll (its report and files) plus class_summary.csv of expected figures."""
    one_seed_each = len(results) == len({r.run.roll for r in results})
    for result in results:
        run = result.run
        folder = out / run.roll if one_seed_each else out / f"{run.roll}-seed{run.seed}"
        folder.mkdir(exist_ok=True)
        write_outputs(folder, result, plots=plots)
    _figures_csv(out / "class_summary.csv", results)
    if json:
        _print_json([r.to_json() for r in results])
    else:
        print(f"wrote {len(results)} report folders and {out / 'class_summary.csv'}")


def _spec_csv(configs: list[LabConfig], handle: Any) -> None:
    writer = csv.writer(handle)
    writer.writerow(["roll"] + [q for q, _, _ in configs[0].table()] + ["assumed defaults"])
    for config in configs:
        writer.writerow(
            [config.roll] + [v for _, _, v in config.table()] + ["; ".join(config.assumptions)]
        )


def write_spec(
    configs: list[LabConfig], out: Path | None, json: bool = False, roster: bool = False
) -> None:
    """The rules: as JSON, as the table (one roll), or one CSV row a roll (a roster); and
    spec.csv in ``out``."""
    if json:
        _print_json([{"roll": c.roll, "rules": rules_json(c)} for c in configs])
    elif len(configs) == 1 and not roster:
        print(configs[0].format_table())
    else:
        _spec_csv(configs, sys.stdout)
    if out is not None:
        with open(out / "spec.csv", "w", newline="") as handle:
            _spec_csv(configs, handle)


def write_check(results: list[CheckResult], out: Path | None, json: bool = False) -> None:
    """The self-check: its report (or JSON: one object, or a list for several runs) on
    stdout, and check.json (always a list) in ``out``."""
    documents = [result.to_json() for result in results]
    if json:
        _print_json(documents[0] if len(documents) == 1 else documents)
    else:
        print("\n\n".join(format_check(result) for result in results))
    if out is not None:
        (out / "check.json").write_text(dumps(documents, indent=1, allow_nan=False))
