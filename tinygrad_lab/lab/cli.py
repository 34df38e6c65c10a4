"""The ``tinygrad-lab`` command (also ``python -m tinygrad_lab``): a thin layer over `lab`.

Every user error (a bad roll number, epochs, seed range, roster, output folder or scheduler) is
one line on stderr and exit status 2, before anything is written.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from tinygrad_lab.lab.digits import add_digits_arguments, digits_command
from tinygrad_lab.lab.rules import (
    EPOCHS,
    EXAMPLE_ROLL,
    LabConfig,
    LabRun,
    RollNumberError,
    lab_config,
    parse_roll,
)
from tinygrad_lab.lab.study_cli import add_study_arguments, study_command
from tinygrad_lab.nn import ACTIVATIONS

T = TypeVar("T")


class UsageError(Exception):
    """A one-line error for the user; exit status 2."""


def _whole_number(minimum: int, expected: str, must_be: str) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum``, with errors in the user's words."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {must_be}, got {value}")
        return value

    return parse


positive_int = _whole_number(1, "a positive whole number", "a positive whole number")
non_negative_int = _whole_number(0, "a whole number >= 0", ">= 0")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _common_options() -> argparse.ArgumentParser:
    """Who (a roll or a roster), the rules' overrides, and the outputs: every command but graph."""
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
    return common


def _running_options() -> argparse.ArgumentParser:
    """Seeds, epochs and where the runs run: the commands that train."""
    running = _Parser(add_help=False)
    seeds = running.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    seeds.add_argument("--seeds", metavar="RANGE", help="several seeds: 0-49, 1,5,9, ...")
    running.add_argument("--epochs", type=positive_int, help=f"epochs a run (default {EPOCHS})")
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
    return running


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinygrad-lab",
        description="Run the course lab (Lab 6: deep network structural stress test) with "
        "tinygrad_lab, for one roll number, many seeds, or a whole class.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, running = _common_options(), _running_options()
    spec = sub.add_parser("spec", parents=[common], help="the roll-number configuration table")
    spec.add_argument("--against", metavar="ROLL", help="mark each value that differs from ROLL's")
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
    add_digits_arguments(sub.add_parser("digits", help="train a CNN on handwritten digits"))
    add_study_arguments(
        sub.add_parser("study", help="a lab question over many seeds: depth, init, lr")
    )
    return parser


PARTS = {"stress-test": ("a",), "part-b": ("b",), "lab": ("a", "b")}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, already printed)
        return int(exit_.code or 0)
    try:
        return _dispatch(args)
    except (UsageError, RollNumberError, ValueError, ImportError) as err:
        print(f"tinygrad-lab: error: {err}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    from tinygrad_lab.lab.sweep import SweepError

    try:
        if args.command == "graph":
            return _graph(args)
        if args.command == "digits":
            return digits_command(args, _prepare_out)
        if args.command == "study":
            return study_command(args, _prepare_out)
        configs = _configs(args)
        if args.command == "spec":
            return _spec(args, configs)
        runs = _lab_runs(args, configs)
        if args.command == "check":
            return _check(args, runs)
        return _run(args, runs)
    except SweepError as err:
        raise UsageError(str(err)) from None


def _configs(args: argparse.Namespace) -> list[LabConfig]:
    """Each roll (of --roll, or of the --rolls roster) parsed once, with the overrides."""
    from tinygrad_lab.lab.sweep import read_roster

    if args.rolls is not None:
        rolls = read_roster(args.rolls)
    elif args.roll is not None:
        rolls = [args.roll]
    else:
        raise UsageError(f"give --roll R (e.g. --roll {EXAMPLE_ROLL}) or --rolls roster.csv")
    return [
        lab_config(roll, activation=args.activation, added_layers=args.added_layers)
        for roll in rolls
    ]


def _lab_runs(args: argparse.Namespace, configs: list[LabConfig]) -> list[LabRun]:
    """Every (roll, seed) of the command as a `LabRun`, rolls first."""
    from tinygrad_lab.lab.sweep import parse_seeds

    seeds = parse_seeds(args.seeds) if args.seeds is not None else [args.seed]
    return [
        LabRun(config, seed, config.epochs if args.epochs is None else args.epochs)
        for config in configs
        for seed in seeds
    ]


def _spec(args: argparse.Namespace, configs: list[LabConfig]) -> int:
    from tinygrad_lab.lab.outputs import write_spec

    if args.against is not None:
        from tinygrad_lab.lab.spec_against import write_against

        against = lab_config(args.against, args.activation, args.added_layers)
        return write_against(configs, against, args.out and _prepare_out(args.out), args.json)
    out = _prepare_out(args.out) if args.out else None
    write_spec(configs, out, json=args.json, roster=args.rolls is not None)
    return 0


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


def _run_all(args: argparse.Namespace, runs: list[LabRun], fn: Callable[[LabRun], T]) -> list[T]:
    """``fn(run)`` for every run: here when there is one, else on a pool or Dask."""
    if len(runs) == 1 and args.scheduler is None:
        return [fn(runs[0])]
    from tinygrad_lab.lab.sweep import dask_executor, run_many

    executor = dask_executor(args.scheduler) if args.scheduler else None
    progress = not args.no_progress and not args.json
    return run_many(runs, executor=executor, workers=args.workers, progress=progress, fn=fn)


def _run(args: argparse.Namespace, runs: list[LabRun]) -> int:
    from tinygrad_lab.lab import outputs
    from tinygrad_lab.lab.compute import compute_lab

    if args.rolls is not None and args.out is None:
        raise UsageError("--rolls needs --out DIR for the per-roll folders and class summary")
    out = _prepare_out(args.out) if args.out else None
    results = _run_all(args, runs, partial(compute_lab, parts=PARTS[args.command]))
    options = {"json": args.json, "plots": not args.no_plots}
    if args.rolls is not None:
        outputs.write_class(results, out, **options)
    elif len(runs) > 1:
        outputs.write_sweep(results, out, **options)
    else:
        outputs.write_single(results[0], out, **options)
    return 0


def _check(args: argparse.Namespace, runs: list[LabRun]) -> int:
    from tinygrad_lab.lab.check import check_lab
    from tinygrad_lab.lab.outputs import write_check

    out = _prepare_out(args.out) if args.out else None
    results = _run_all(args, runs, check_lab)
    write_check(results, out, json=args.json)
    return 0 if all(r.passed for r in results) else 1


def _graph(args: argparse.Namespace) -> int:
    from tinygrad_lab.lab.graph import graph_command
    from tinygrad_lab.viz import GraphvizNotFoundError

    roll = parse_roll(args.roll)
    _prepare_out(args.out.parent if str(args.out.parent) else Path("."))
    try:
        path = graph_command(roll, args.out, layers=args.layers, grads=args.grads, seed=args.seed)
    except GraphvizNotFoundError as err:  # no dot: the DOT source is written instead
        raise UsageError(str(err)) from None
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
