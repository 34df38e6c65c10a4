"""The stress test's commands: ``spec``, ``stress-test``, ``part-b``, ``lab``, ``check`` and
``graph`` (`tinygrad_lab.lab.cli` registers them): their options, and what each runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from tinygrad_lab.lab import options
from tinygrad_lab.lab.options import Once, UsageError, non_negative_int, read_roster, ready_out
from tinygrad_lab.lab.rules import EPOCHS, EXAMPLE_ROLL, MAX_EPOCHS, LabConfig, LabRun, lab_config
from tinygrad_lab.nn import ACTIVATIONS

if TYPE_CHECKING:
    from tinygrad_lab.lab.roster import Roster

T = TypeVar("T")


# ------------------------------------------------------------------------------ options
def who(parser: argparse.ArgumentParser) -> None:
    """A roll or a roster."""
    one_of = parser.add_mutually_exclusive_group()
    options.add_roll(one_of, help=f"roll number, at least three digits (e.g. {EXAMPLE_ROLL})")
    options.add_rolls(
        one_of,
        "a roster: one student a row (CSV, tab- or semicolon-separated, or .xlsx); the "
        "roll numbers in a column headed like 'roll' or 'Roll No.', else the first; its other "
        "columns are kept beside the roll in every output",
        column=parser,
    )


def rules(parser: argparse.ArgumentParser) -> None:
    """Overrides of the rules that shape Part A's network."""
    parser.add_argument(
        "--activation",
        action=Once,
        choices=list(ACTIVATIONS),
        help="override the activation (default: the roll-number rule; ReLU when "
        "a is odd too, which the documents leave open, as the notebook's code does)",
    )
    parser.add_argument(
        "--added-layers",
        type=non_negative_int,
        action=Once,
        metavar="K",
        help="override the layers added at the break (default: the rule; 3 when "
        "b mod 3 is 0 or 2, which the documents leave open)",
    )


def output(parser: argparse.ArgumentParser) -> None:
    options.add_json(parser, "print one JSON object with every figure on stdout")
    options.add_out(parser, "write reports and files here")


def against(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--against",
        type=options.roll,
        action=Once,
        metavar="ROLL",
        help="mark each value that differs from ROLL's",
    )


def training(parser: argparse.ArgumentParser) -> None:
    """Seeds and epochs: the commands that train."""
    seeds = parser.add_mutually_exclusive_group()
    options.add_seed(seeds)
    options.add_seeds(seeds, "several seeds: 0-49, 1,5,9, ...")
    options.add_epochs(parser, f"epochs a run (default {EPOCHS}, at most {MAX_EPOCHS:,})")


def running(parser: argparse.ArgumentParser) -> None:
    """Where several runs (--seeds, --rolls) run."""
    options.add_workers(parser)
    options.add_scheduler(parser)
    options.add_no_progress(parser)


def plots(parser: argparse.ArgumentParser) -> None:
    options.add_no_plots(parser)


def graph_options(parser: argparse.ArgumentParser) -> None:
    options.add_roll(parser, required=True)
    options.add_seed(parser)
    options.add_out(parser, "file: .svg, .png, .pdf or .dot", required=True, metavar="FILE")
    parser.add_argument("--layers", action="store_true", help="one cluster per layer")
    parser.add_argument("--grads", action="store_true", help="colour by gradient norm")


# What a command that takes no such option runs with (the options' own defaults).
DEFAULTS = {
    "activation": None,
    "added_layers": None,
    "seed": 0,
    "seeds": None,
    "roll_column": None,
    "epochs": None,
    "workers": None,
    "scheduler": None,
    "no_progress": False,
    "no_plots": False,
}

PARTS = {"stress-test": ("a",), "part-b": ("b",), "lab": ("a", "b")}


# ------------------------------------------------------------------------------ commands
def spec(args: argparse.Namespace) -> int:
    """``spec``: the roll-number configuration table (with ``--against``, Q4's differences)."""
    from tinygrad_lab.lab.stress.outputs import write_spec

    roster = read_roster(args)
    configs = _configs(args, roster)
    if args.against is not None:
        from tinygrad_lab.lab.stress.spec_against import write_against

        versus = lab_config(args.against, args.activation, args.added_layers)
        return write_against(configs, versus, ready_out(args.out), args.json)
    out = ready_out(args.out)
    write_spec(configs, out, json=args.json, roster=roster)
    return 0


def run(args: argparse.Namespace) -> int:
    """``stress-test``, ``part-b`` and ``lab``: one run's report, a sweep's, or a class's."""
    from tinygrad_lab.lab.stress import outputs
    from tinygrad_lab.lab.stress.compute import compute_lab

    roster = read_roster(args)
    runs = _lab_runs(args, _configs(args, roster))
    if roster is not None and args.out is None:
        raise UsageError("--rolls needs --out DIR for the per-roll folders and class summary")
    out = ready_out(args.out)
    _check_plots(args)
    # the full Hessian's check of λmax costs a backward a parameter: one run's report has it
    check = ("hessian",) if len(runs) == 1 and roster is None else ()
    results = _run_all(args, runs, partial(compute_lab, parts=PARTS[args.command] + check))
    written = {"json": args.json, "plots": not args.no_plots}
    if roster is not None:
        outputs.write_class(results, out, roster=roster, **written)
    elif len(runs) > 1:
        outputs.write_sweep(results, out, **written)
    else:
        outputs.write_single(results[0], out, **written)
    return 0


def check(args: argparse.Namespace) -> int:
    """``check``: autograd against the notebook's matrix-form backprop; exit 1 if they differ."""
    from tinygrad_lab.lab.stress.check import check_lab
    from tinygrad_lab.lab.stress.outputs import write_check

    runs = _lab_runs(args, _configs(args, read_roster(args)))
    out = ready_out(args.out)
    results = _run_all(args, runs, check_lab)
    write_check(results, out, json=args.json)
    return 0 if all(r.passed for r in results) else 1


def graph(args: argparse.Namespace) -> int:
    """``graph``: the lab network's computation graph, drawn."""
    from tinygrad_lab.lab.stress.graph import graph_command
    from tinygrad_lab.viz import GraphvizNotFoundError

    ready_out(args.out.parent)
    try:
        path = graph_command(
            args.roll, args.out, layers=args.layers, grads=args.grads, seed=args.seed
        )
    except GraphvizNotFoundError as err:  # no dot: the DOT source is written instead
        raise UsageError(str(err)) from None
    print(f"wrote {path}")
    return 0


# ------------------------------------------------------------------------------ helpers
def _configs(args: argparse.Namespace, roster: Roster | None) -> list[LabConfig]:
    """Each roll (of --roll, or of the roster) parsed once, with the overrides."""
    if roster is not None:
        rolls = roster.rolls
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
    seeds = list(args.seeds) if args.seeds is not None else [args.seed]
    return [
        LabRun(config, seed, config.epochs if args.epochs is None else args.epochs)
        for config in configs
        for seed in seeds
    ]


def _check_plots(args: argparse.Namespace) -> None:
    """Plots need matplotlib: said before any training, not after it."""
    if args.out is None or args.no_plots:
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(
            "plots need matplotlib: pip install 'tinygrad_lab[plot]', or pass --no-plots"
        ) from None


def _run_all(args: argparse.Namespace, runs: list[LabRun], fn: Callable[[LabRun], T]) -> list[T]:
    """``fn(run)`` for every run: here when there is one (or when nothing trains: Part B
    takes milliseconds), else on a pool or Dask."""
    if args.scheduler is None and (len(runs) == 1 or args.command == "part-b"):
        return [fn(run) for run in runs]
    from tinygrad_lab.lab.pool import dask_executor, run_many

    executor = dask_executor(args.scheduler) if args.scheduler else None
    progress = not args.no_progress and not args.json
    return run_many(runs, executor=executor, workers=args.workers, progress=progress, fn=fn)
