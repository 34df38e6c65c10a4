"""What the command line prints and writes for one run, a seed sweep, or a class roster."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from tinygrad_lab.lab.report import fmt, markdown_report, write_outputs
from tinygrad_lab.lab.sweep import flatten, summarise

# The figures a sweep prints and a class summary lists, by their flattened names.
KEY_FIGURES = [
    "part_a.run1.losses.1",
    "part_a.run1.losses.100",
    "part_a.run1.losses.400",
    "part_a.run1.grad_norm_first",
    "part_a.run1.grad_norm_last",
    "part_a.run1.gri",
    "part_a.run1.r2",
    "part_a.run2.losses.1",
    "part_a.run2.losses.100",
    "part_a.run2.losses.400",
    "part_a.run2.grad_norm_first",
    "part_a.run2.grad_norm_last",
    "part_a.run2.gri",
    "part_a.run2.r2",
    "part_b.dense_parameters",
    "part_b.conv_parameters",
    "part_b.output_size",
    "part_b.manual_convolution",
]


def _dump(value: Any) -> str:
    return json.dumps(value, allow_nan=False)


def write_single(args: argparse.Namespace, out: Path | None, results: dict[str, Any]) -> int:
    if args.json:
        print(_dump(results))
    else:
        print(markdown_report(results))
    if out is not None:
        written = write_outputs(out, results, plots=not args.no_plots)
        if not args.json:
            print("\nwrote " + ", ".join(str(p) for p in written))
    return 0


def sweep_table(summary: dict[str, Any]) -> str:
    lines = [
        "| figure | median | q1 | q3 | min | max | undefined |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, entry in summary["distribution"].items():
        if key.startswith("part_a.") and any(
            key.endswith(k.split(".", 1)[1]) for k in KEY_FIGURES if k.startswith("part_a")
        ):
            lines.append(
                f"| {key.removeprefix('part_a.')} | "
                + " | ".join(fmt(entry.get(k), 4) for k in ("median", "q1", "q3", "min", "max"))
                + f" | {entry['undefined']} |"
            )
    return "\n".join(lines)


def write_sweep(args: argparse.Namespace, out: Path | None, all_results: list[dict]) -> int:
    summary = summarise(all_results) if "part_a" in all_results[0] else {"runs": len(all_results)}
    text = ""
    if "part_a" in all_results[0]:
        text = "\n".join(
            [
                f"# Roll {all_results[0]['roll']}: {summary['runs']} seeds "
                f"({summary['seeds'][0]}…{summary['seeds'][-1]})",
                "",
                sweep_table(summary),
                "",
                f"- GRI fell after the break in {fmt(summary['gri_fell_share'], 3)} of the "
                f"{summary['gri_defined_runs']} seeds where both GRIs are defined.",
                f"- A layer was dead (every unit 0 for every example) in "
                f"{fmt(summary['dead_layer_share'], 3)} of the seeds.",
                *[f"- Assumed default: {a}" for a in all_results[0]["config"]["assumptions"]],
                "",
            ]
        )
    if args.json:
        print(_dump({"summary": summary, "runs": all_results}))
    else:
        print(text)
    if out is not None:
        (out / "sweep.md").write_text(text)
        (out / "sweep.json").write_text(_dump({"summary": summary, "runs": all_results}))
        _figures_csv(out / "seeds.csv", all_results)
        if "part_a" in all_results[0] and not args.no_plots:
            from tinygrad_lab.lab.plots import plot_gri_seeds

            plot_gri_seeds(all_results, out / "gri_seeds.png")
    return 0


def _figures_csv(path: Path, all_results: list[dict]) -> None:
    flats = [flatten(r) for r in all_results]
    keys = [k for k in KEY_FIGURES if k in flats[0]]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["roll", "seed", "activation", "added_layers", "assumed_defaults"] + keys)
        for results, flat in zip(all_results, flats, strict=True):
            writer.writerow(
                [
                    results["roll"],
                    results["seed"],
                    results["config"]["activation"],
                    results["config"]["added_layers"],
                    "; ".join(results["config"]["assumptions"]),
                ]
                + ["" if flat[k] is None else flat[k] for k in keys]
            )


def write_class(args: argparse.Namespace, out: Path, all_results: list[dict]) -> int:
    """One folder per roll (its report and files) plus class_summary.csv of expected figures."""
    for results in all_results:
        folder = (
            out / results["roll"]
            if len(all_results) == len({r["roll"] for r in all_results})
            else (out / f"{results['roll']}-seed{results['seed']}")
        )
        folder.mkdir(exist_ok=True)
        write_outputs(folder, results, plots=not args.no_plots)
    _figures_csv(out / "class_summary.csv", all_results)
    if args.json:
        print(_dump(all_results))
    else:
        print(f"wrote {len(all_results)} report folders and {out / 'class_summary.csv'}")
    return 0
