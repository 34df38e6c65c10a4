"""The ``tinygrad-lab`` command (also ``python -m tinygrad_lab``): a thin layer over `lab`.

Every user error (a bad roll number, epochs, seed range, roster, output folder or scheduler) is
one line on stderr and exit status 2, before anything is written.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from tinygrad_lab.lab.rules import EXAMPLE_ROLL, RollNumberError, lab_config
from tinygrad_lab.nn import ACTIVATIONS


class UsageError(Exception):
    """A one-line error for the user; exit status 2."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinygrad-lab",
        description="Run the course lab (Lab 6: deep network structural stress test) with "
        "tinygrad_lab, for one roll number, many seeds, or a whole class.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _Parser(add_help=False)
    who = common.add_mutually_exclusive_group()
    who.add_argument("--roll", help=f"roll number, at least three digits (e.g. {EXAMPLE_ROLL})")
    who.add_argument(
        "--rolls",
        type=Path,
        metavar="CSV",
        help="a roster: one roll number a row (a header row is allowed)",
    )
    common.add_argument(
        "--activation",
        choices=list(ACTIVATIONS),
        help="override the activation (default: the roll-number rule; ReLU when "
        "a is odd too, which the documents leave open, as the notebook's code does)",
    )
    common.add_argument(
        "--added-layers",
        type=non_negative_int,
        metavar="K",
        help="override the layers added at the break (default: the rule; 3 when "
        "b mod 3 is 0 or 2, which the documents leave open)",
    )
    common.add_argument(
        "--json", action="store_true", help="print one JSON object with every figure on stdout"
    )
    common.add_argument("--out", type=Path, metavar="DIR", help="write reports and files here")

    running = _Parser(add_help=False)
    seeds = running.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    seeds.add_argument("--seeds", metavar="RANGE", help="several seeds: 0-49, 1,5,9, ...")
    running.add_argument("--epochs", type=positive_int, help="epochs a run (default 400)")
    running.add_argument(
        "--workers",
        type=positive_int,
        help="local processes for --seeds/--rolls (default: every core)",
    )
    running.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run --seeds/--rolls on a Dask cluster (needs tinygrad_lab[dask])",
    )
    running.add_argument("--no-progress", action="store_true", help="no progress bar")
    running.add_argument("--no-plots", action="store_true", help="write no PNG plots")

    sub.add_parser("spec", parents=[common], help="the roll-number configuration table")
    sub.add_parser("stress-test", parents=[common, running], help="Part A (and Q2)")
    sub.add_parser("part-b", parents=[common, running], help="Part B")
    sub.add_parser("lab", parents=[common, running], help="the whole lab: Part A, Q2, Part B")
    sub.add_parser(
        "check",
        parents=[common, running],
        help="train the lab network and check autograd against the "
        "notebook's matrix-form backprop at every epoch (exit 1 if not)",
    )
    graph = sub.add_parser("graph", help="draw the lab network's computation graph")
    graph.add_argument("--roll", default=EXAMPLE_ROLL, help=f"roll number (default {EXAMPLE_ROLL})")
    graph.add_argument("--seed", type=non_negative_int, default=0)
    graph.add_argument("--out", type=Path, required=True, help="file: .svg, .png, .pdf or .dot")
    graph.add_argument("--layers", action="store_true", help="one cluster per layer")
    graph.add_argument("--grads", action="store_true", help="colour by gradient norm")
    return parser


PARTS = {"stress-test": ("a",), "part-b": ("b",), "lab": ("a", "b")}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, already printed)
        return int(exit_.code or 0)
    try:
        return _dispatch(args)
    except (UsageError, RollNumberError, ValueError, ImportError, RuntimeError) as err:
        print(f"tinygrad-lab: error: {err}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    from tinygrad_lab.lab.sweep import SweepError

    try:
        if args.command == "graph":
            return _graph(args)
        rolls = _rolls(args)
        if args.command == "spec":
            return _spec(args, rolls)
        if args.command == "check":
            return _check(args, rolls)
        return _run(args, rolls)
    except SweepError as err:
        raise UsageError(str(err)) from None


def _rolls(args: argparse.Namespace) -> list[str]:
    from tinygrad_lab.lab.sweep import read_roster

    if args.rolls is not None:
        return read_roster(args.rolls)
    if args.roll is None:
        raise UsageError(f"give --roll R (e.g. --roll {EXAMPLE_ROLL}) or --rolls roster.csv")
    return [lab_config(args.roll).roll]


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"activation": args.activation, "added_layers": args.added_layers}


def _spec(args: argparse.Namespace, rolls: list[str]) -> int:
    configs = [lab_config(roll, **_overrides(args)) for roll in rolls]
    out = _prepare_out(args.out) if args.out else None
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "roll": c.roll,
                        "rules": [
                            dict(zip(("quantity", "rule", "value"), row, strict=True))
                            for row in c.table()
                        ],
                    }
                    for c in configs
                ]
            )
        )
    elif len(configs) == 1 and args.rolls is None:
        print(configs[0].format_table())
    else:
        _spec_csv(configs, sys.stdout)
    if out:
        with open(out / "spec.csv", "w", newline="") as handle:
            _spec_csv(configs, handle)
    return 0


def _spec_csv(configs: list, handle: Any) -> None:
    writer = csv.writer(handle)
    writer.writerow(["roll"] + [q for q, _, _ in configs[0].table()] + ["assumed defaults"])
    for config in configs:
        writer.writerow(
            [config.roll] + [v for _, _, v in config.table()] + ["; ".join(config.assumptions)]
        )


def _prepare_out(out: Path) -> Path:
    """Create ``out`` and check it is writable, before any work; undo what was created if not."""
    created = [p for p in [out, *out.parents] if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        if created:  # the outermost folder this call made holds all the others
            shutil.rmtree(created[-1], ignore_errors=True)
        raise UsageError(f"cannot write to --out {out}: {err.strerror or err}") from None
    return out


def _run(args: argparse.Namespace, rolls: list[str]) -> int:
    from tinygrad_lab.lab.compute import compute_lab
    from tinygrad_lab.lab.sweep import dask_executor, parse_seeds

    seeds = parse_seeds(args.seeds) if args.seeds is not None else [args.seed]
    for roll in rolls:  # check every override and roll before any work
        lab_config(roll, **_overrides(args))
    if args.rolls is not None and args.out is None:
        raise UsageError("--rolls needs --out DIR for the per-roll folders and class summary")
    out = _prepare_out(args.out) if args.out else None
    parts = PARTS[args.command]
    tasks = [
        dict(roll=roll, seed=seed, epochs=args.epochs, parts=parts, **_overrides(args))
        for roll in rolls
        for seed in seeds
    ]
    if len(tasks) == 1 and args.scheduler is None:
        all_results = [compute_lab(**tasks[0])]
    else:
        from tinygrad_lab.lab.sweep import run_many

        executor = dask_executor(args.scheduler) if args.scheduler else None
        all_results = run_many(
            tasks,
            executor=executor,
            workers=args.workers,
            progress=not args.no_progress and not args.json,
        )
    from tinygrad_lab.lab import outputs

    if args.rolls is not None:
        return outputs.write_class(args, out, all_results)
    if len(seeds) > 1:
        return outputs.write_sweep(args, out, all_results)
    return outputs.write_single(args, out, all_results[0])


def _check(args: argparse.Namespace, rolls: list[str]) -> int:
    from tinygrad_lab.lab.check import check_lab, format_check
    from tinygrad_lab.lab.sweep import parse_seeds, run_many

    seeds = parse_seeds(args.seeds) if args.seeds is not None else [args.seed]
    for roll in rolls:
        lab_config(roll, **_overrides(args))
    tasks = [
        dict(roll=roll, seed=seed, epochs=args.epochs, **_overrides(args))
        for roll in rolls
        for seed in seeds
    ]
    if len(tasks) == 1:
        results = [check_lab(**tasks[0])]
    else:
        results = run_many(
            tasks,
            workers=args.workers,
            fn=check_lab,
            progress=not args.no_progress and not args.json,
        )
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, allow_nan=False))
    else:
        print("\n\n".join(format_check(r) for r in results))
    if args.out:
        out = _prepare_out(args.out)
        (out / "check.json").write_text(json.dumps(results, indent=1, allow_nan=False))
    return 0 if all(r["passed"] for r in results) else 1


def _graph(args: argparse.Namespace) -> int:
    from tinygrad_lab.lab.graph import graph_command

    lab_config(args.roll)
    _prepare_out(args.out.parent if str(args.out.parent) else Path("."))
    path = graph_command(args.roll, args.out, layers=args.layers, grads=args.grads, seed=args.seed)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
