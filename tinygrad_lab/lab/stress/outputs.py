"""What the command line prints and writes for one run, a seed sweep, or a class roster."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from json import dumps
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinygrad_lab.display import markdown_table
from tinygrad_lab.lab.output.files import OutputFiles
from tinygrad_lab.lab.output.tables import fmt, listed, share
from tinygrad_lab.lab.pool import Distribution
from tinygrad_lab.lab.rules import LabConfig
from tinygrad_lab.lab.stress.check import CheckResult, format_check
from tinygrad_lab.lab.stress.compute import LabResult, config_json, rules_json
from tinygrad_lab.lab.stress.part_a import RunResult
from tinygrad_lab.lab.stress.report import markdown_report, stage_outputs
from tinygrad_lab.lab.stress.sweep import SweepSummary, summarise

if TYPE_CHECKING:
    from tinygrad_lab.lab.roster import Roster


@dataclass(frozen=True)
class Figure:
    """A key figure: its name (its path in the JSON, e.g. ``part_a.run1.gri``) and its value in
    a result (None where undefined)."""

    name: str
    value: Callable[[LabResult], Any]


def _run_figure(run: str, figure: str, value: Callable[[RunResult], Any]) -> Figure:
    """A figure of run ``run`` ("run1" or "run2"), named as in the JSON."""
    return Figure(f"part_a.{run}.{figure}", lambda result: value(result.part_a.runs()[run]))


def part_a_figures(epochs: list[int], final_loss: bool = True) -> list[Figure]:
    """Each run's loss at ``epochs`` (the reported ones) and its final loss, its gradient norms,
    GRI and R²."""
    figures = []
    for run in ("run1", "run2"):
        figures += [
            _run_figure(run, f"losses.{epoch}", lambda x, epoch=epoch: x.losses.get(epoch))
            for epoch in epochs
        ]
        if final_loss:
            figures.append(_run_figure(run, "final_loss", lambda x: x.final_loss))
        figures += [
            _run_figure(run, "grad_norm_first", lambda x: x.grad_norm_first),
            _run_figure(run, "grad_norm_last", lambda x: x.grad_norm_last),
            _run_figure(run, "gri", lambda x: x.gri),
            _run_figure(run, "r2", lambda x: x.r2),
        ]
    return figures


PART_B_FIGURES = [
    Figure("part_b.dense_parameters", lambda r: r.part_b.dense_parameters),
    Figure("part_b.conv_parameters", lambda r: r.part_b.conv_parameters),
    Figure("part_b.output_size", lambda r: r.part_b.output_size),
    Figure("part_b.output_size_error", lambda r: r.part_b.output_size_error),  # or why none
    Figure("part_b.manual_convolution", lambda r: r.part_b.manual_convolution),
]


def key_figures(result: LabResult) -> list[Figure]:
    """The figures seeds.csv and class_summary.csv list, for the parts in ``result``: Part A's
    at the run's reported epochs (1, 100, the last), then Part B's answers."""
    figures = part_a_figures(result.run.reported_epochs) if result.part_a is not None else []
    return figures + (PART_B_FIGURES if result.part_b is not None else [])


def _json_text(value: Any, indent: int | None = None) -> str:
    return dumps(value, indent=indent, allow_nan=False)


def _print_json(value: Any) -> None:
    print(_json_text(value))


def write_single(
    result: LabResult, out: Path | None, json: bool = False, plots: bool = True
) -> None:
    """One run: its files in ``out``, then the report (or, with ``json``, the JSON object) on
    stdout. Files first: a closed stdout (``| head``) must not lose them."""
    text = _json_text(result.to_json()) if json else markdown_report(result)
    written = []
    if out is not None:
        with OutputFiles() as files:
            stage_outputs(files, out, result, plots=plots)
        written = files.written
    print(text)
    if written and not json:
        print("\nwrote " + ", ".join(str(p) for p in written))


def sweep_table(results: list[LabResult]) -> str:
    """Median, quartiles and range of Part A's key figures over the runs (the final loss is the
    last reported epoch's, so it is not repeated)."""
    rows = []
    for figure in part_a_figures(results[0].run.reported_epochs, final_loss=False):
        entry = Distribution.of(figure.value(r) for r in results)
        stats = [entry.median, entry.q1, entry.q3, entry.min, entry.max]
        rows.append([figure.name.removeprefix("part_a."), *stats, entry.undefined])
    header = ["figure", "median", "q1", "q3", "min", "max", "undefined"]
    return markdown_table(header, rows, fmt=lambda value: fmt(value, 4))


def _gri_fell_text(summary: SweepSummary) -> str:
    defined = summary.gri_defined_runs
    if not defined:
        return "- GRI fell after the break: cannot say, no seed has both GRIs defined."
    where = "" if defined == summary.runs else " where both GRIs are defined"
    return f"- GRI fell after the break in {share(summary.gri_fell_runs, defined, 'seeds')}{where}."


def _sweep_text(results: list[LabResult], summary: SweepSummary) -> str:
    return "\n".join(
        [
            f"# Roll {results[0].run.roll}: {summary.runs} seeds "
            f"({summary.seeds[0]}…{summary.seeds[-1]})",
            "",
            sweep_table(results),
            "",
            _gri_fell_text(summary),
            f"- A layer was dead (every unit 0 for every example) in "
            f"{share(summary.dead_layer_runs, summary.runs, 'seeds')}.",
            *[
                f"- Diagnosis of run {name[-1]}: "
                + ", ".join(
                    f"{verdict} in {share(count, summary.runs, 'seeds')}"
                    for verdict, count in tally.items()
                )
                + "."
                for name, tally in summary.verdicts.items()
            ],
            *[f"- Assumed default: {a}" for a in results[0].run.config.assumptions],
            *[f"- Override: {o}" for o in results[0].run.config.overrides],
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
    if out is not None:
        with OutputFiles() as files:
            files.write(out / "sweep.md", text)
            files.write(out / "sweep.json", _json_text(document))
            files.write(out / "seeds.csv", _figures_csv(results))
            if has_part_a and plots:
                from tinygrad_lab.lab.stress.plots import plot_gri_seeds

                files.write(out / "gri_seeds.png", partial(plot_gri_seeds, results))
    if json:
        _print_json(document)
    else:
        print(text)


def _csv_cell(value: Any) -> Any:
    """None and non-finite figures (the JSON's null) as empty cells."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def _figures_csv(results: list[LabResult], roster: Roster | None = None) -> str:
    """seeds.csv and class_summary.csv: one row a run of its key figures (a roster's other
    columns beside the roll)."""
    figures = key_figures(results[0])
    own = ["seed", "activation", "added_layers", "assumed_defaults", "overrides"]
    own += [figure.name for figure in figures]
    with io.StringIO() as handle:
        writer = csv.writer(handle)
        writer.writerow(["roll", *_roster_header(roster, ["roll", *own]), *own])
        for result in results:
            config = result.run.config
            writer.writerow(
                [
                    result.run.roll,
                    *_roster_cells(roster, result.run.roll),
                    result.run.seed,
                    config.activation,
                    config.added_layers,
                    "; ".join(config.assumptions),
                    "; ".join(config.overrides),
                ]
                + [_csv_cell(figure.value(result)) for figure in figures]
            )
        return handle.getvalue()


def _roster_header(roster: Roster | None, taken: list[str]) -> list[str]:
    return roster.header(taken) if roster is not None else []


def _roster_cells(roster: Roster | None, roll: str) -> list[str]:
    return roster.cells(roll) if roster is not None else []


def _with_roster(document: dict[str, Any], roster: Roster | None, roll: str) -> dict[str, Any]:
    """A roll's JSON object with its roster row's other columns (``"roster"``), when a roster
    was given."""
    return document if roster is None else {**document, "roster": roster.to_json(roll)}


def write_class(
    results: list[LabResult],
    out: Path,
    json: bool = False,
    plots: bool = True,
    roster: Roster | None = None,
) -> None:
    """One folder per roll (its report and files) plus class_summary.csv of expected figures,
    with the roster's other columns beside the roll."""
    one_seed_each = len(results) == len({r.run.roll for r in results})
    with OutputFiles() as files:
        for result in results:
            run = result.run
            folder = out / run.roll if one_seed_each else out / f"{run.roll}-seed{run.seed}"
            stage_outputs(files, folder, result, plots=plots)
        files.write(out / "class_summary.csv", _figures_csv(results, roster))
    if json:
        _print_json([_with_roster(r.to_json(), roster, r.run.roll) for r in results])
    else:
        seeds = sorted({r.run.seed for r in results})
        print(
            f"wrote {len(results)} report folders and {out / 'class_summary.csv'}: the figures "
            f"of {listed('seed', seeds)}; another seed (a student's own) gives other figures"
        )


def _spec_csv(configs: list[LabConfig], roster: Roster | None = None) -> str:
    """One row of rules a roll (a roster's other columns beside it)."""
    own = [q for q, _, _ in configs[0].table()] + ["assumed defaults", "overrides"]
    with io.StringIO() as handle:
        writer = csv.writer(handle)
        writer.writerow(["roll", *_roster_header(roster, ["roll", *own]), *own])
        for config in configs:
            notes = ["; ".join(config.assumptions), "; ".join(config.overrides)]
            writer.writerow(
                [config.roll, *_roster_cells(roster, config.roll)]
                + [v for _, _, v in config.table()]
                + notes
            )
        return handle.getvalue()


def write_spec(
    configs: list[LabConfig],
    out: Path | None,
    json: bool = False,
    roster: Roster | None = None,
) -> None:
    """The rules: as JSON (one object for one roll, a list for a roster), as the table (one
    roll), or one CSV row a roll (a roster, its other columns beside the roll); and spec.csv
    in ``out``."""
    if out is not None:
        with OutputFiles() as files:
            files.write(out / "spec.csv", _spec_csv(configs, roster))
    one = len(configs) == 1 and roster is None
    if json:
        documents = [
            _with_roster(
                {"roll": c.roll, "rules": rules_json(c), "config": config_json(c)}, roster, c.roll
            )
            for c in configs
        ]
        _print_json(documents[0] if one else documents)
    elif one:
        print(configs[0].format_table())
    else:
        print(_spec_csv(configs, roster), end="")


def write_check(results: list[CheckResult], out: Path | None, json: bool = False) -> None:
    """The self-check: its report (or JSON: one object, or a list for several runs) on
    stdout, and check.json (always a list) in ``out``."""
    documents = [result.to_json() for result in results]
    if out is not None:
        with OutputFiles() as files:
            files.write(out / "check.json", _json_text(documents, indent=1))
    if json:
        _print_json(documents[0] if len(documents) == 1 else documents)
    else:
        print("\n\n".join(format_check(result) for result in results))
