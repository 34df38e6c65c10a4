"""The ``tinygrad-lab`` command (also ``python -m tinygrad_lab``): a thin layer over `lab`.

Every user error (a bad roll number, epochs, seed range, roster, option, output folder,
missing matplotlib or scheduler) is one line on stderr and exit status 2, before any training;
a file that cannot be written is one line and exit 2 too, with nothing half-written
(`lab.files`). Ctrl-C is one line and exit 130; a closed stdout (``| head``) exits 141 quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tinygrad_lab import __version__
from tinygrad_lab.lab.audit.command import add_audit_arguments, audit_command
from tinygrad_lab.lab.digits import add_digits_arguments, digits_command
from tinygrad_lab.lab.rules import (
    EPOCHS,
    EXAMPLE_ROLL,
    MAX_EPOCHS,
    LabConfig,
    LabRun,
    RollNumberError,
    lab_config,
    parse_roll,
)
from tinygrad_lab.lab.studies.command import add_study_arguments, study_command
from tinygrad_lab.nn import ACTIVATIONS

if TYPE_CHECKING:
    from tinygrad_lab.lab.roster import Roster

T = TypeVar("T")


class UsageError(Exception):
    """A one-line error for the user; exit status 2."""


def _whole_number(
    minimum: int, expected: str, must_be: str, maximum: int | None = None
) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum`` (and <= ``maximum``), with errors in
    the user's words."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {must_be}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(
                f"must be at most {maximum:,} (every epoch's loss is kept), got {value:,}"
            )
        return value

    return parse


positive_int = _whole_number(1, "a positive whole number", "a positive whole number")
non_negative_int = _whole_number(0, "a whole number >= 0", ">= 0")
epochs_int = _whole_number(1, "a positive whole number", "a positive whole number", MAX_EPOCHS)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _Once(argparse.Action):
    """Store an option's value, refusing the option a second time: argparse would keep the
    last silently, and ``--roll A --roll B`` runs one of two rolls the user meant."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:  # fmt: skip
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            parser.error(f"{option_string} is given twice: give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


def _folder(text: str) -> Path:
    """An argparse type: a path that is not empty (``Path("")`` would be the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got ''")
    return Path(text)


def _options(add: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    group = _Parser(add_help=False)
    add(group)
    return group


def _who(parser: argparse.ArgumentParser) -> None:
    """A roll or a roster."""
    who = parser.add_mutually_exclusive_group()
    who.add_argument(
        "--roll", action=_Once, help=f"roll number, at least three digits (e.g. {EXAMPLE_ROLL})"
    )
    who.add_argument(
        "--rolls",
        type=Path,
        action=_Once,
        metavar="ROSTER",
        help="a roster: one student a row (CSV, tab- or semicolon-separated, or .xlsx); the "
        "roll numbers in a column headed like 'roll' or 'Roll No.', else the first; its other "
        "columns are kept beside the roll in every output",
    )
    parser.add_argument(
        "--roll-column",
        action=_Once,
        metavar="NAME",
        help="the roster's column of roll numbers: its header (any case) or its number from 1",
    )


def _rules(parser: argparse.ArgumentParser) -> None:
    """Overrides of the rules that shape Part A's network."""
    parser.add_argument(
        "--activation",
        action=_Once,
        choices=list(ACTIVATIONS),
        help="override the activation (default: the roll-number rule; ReLU when "
        "a is odd too, which the documents leave open, as the notebook's code does)",
    )
    parser.add_argument(
        "--added-layers",
        type=non_negative_int,
        action=_Once,
        metavar="K",
        help="override the layers added at the break (default: the rule; 3 when "
        "b mod 3 is 0 or 2, which the documents leave open)",
    )


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object with every figure on stdout"
    )
    parser.add_argument(
        "--out", type=_folder, action=_Once, metavar="DIR", help="write reports and files here"
    )


def _against(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--against", action=_Once, metavar="ROLL", help="mark each value that differs from ROLL's"
    )


def _training(parser: argparse.ArgumentParser) -> None:
    """Seeds and epochs: the commands that train."""
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seed", type=non_negative_int, action=_Once, default=0, help="random seed (default 0)"
    )
    seeds.add_argument(
        "--seeds", action=_Once, metavar="RANGE", help="several seeds: 0-49, 1,5,9, ..."
    )
    parser.add_argument(
        "--epochs",
        type=epochs_int,
        action=_Once,
        help=f"epochs a run (default {EPOCHS}, at most {MAX_EPOCHS:,})",
    )


def _running(parser: argparse.ArgumentParser) -> None:
    """Where several runs run."""
    parser.add_argument(
        "--workers",
        type=positive_int,
        action=_Once,
        help="local processes for --seeds/--rolls (default: every core)",
    )
    parser.add_argument(
        "--scheduler",
        action=_Once,
        metavar="ADDRESS",
        help="run --seeds/--rolls on a Dask cluster (needs tinygrad_lab[dask])",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _plots(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-plots", action="store_true", help="write no PNG plots")


def _graph_options(graph: argparse.ArgumentParser) -> None:
    graph.add_argument(
        "--roll", action=_Once, required=True, help=f"roll number (e.g. {EXAMPLE_ROLL})"
    )
    graph.add_argument("--seed", type=non_negative_int, action=_Once, default=0)
    graph.add_argument(
        "--out", type=_folder, action=_Once, required=True, help="file: .svg, .png, .pdf or .dot"
    )
    graph.add_argument("--layers", action="store_true", help="one cluster per layer")
    graph.add_argument("--grads", action="store_true", help="colour by gradient norm")


def _explore_options(explore: argparse.ArgumentParser) -> None:
    explore.add_argument(
        "--roll", action=_Once, required=True, help=f"roll number (e.g. {EXAMPLE_ROLL})"
    )
    explore.add_argument("--seed", type=non_negative_int, action=_Once, default=0)
    explore.add_argument(
        "--run",
        type=int,
        action=_Once,
        default=1,
        metavar="N",
        help="1 (default: before the structural break), 2 (after it: the deeper network Q5 "
        "asks about) or 3 (run 2's network trained on)",
    )
    explore.add_argument(
        "--depth",
        type=int,
        action=_Once,
        metavar="N",
        help="run 1's hidden layers, >= 1 (default: the roll's, 4 + (b mod 3)); runs 2 and 3 "
        "add the break's layers to it",
    )
    explore.add_argument(
        "--epoch",
        type=positive_int,
        action=_Once,
        default=1,
        help="the epoch of that run to explore (default 1: before any update)",
    )
    explore.add_argument(
        "--out", type=_folder, action=_Once, required=True, help="the page: a .html file"
    )


# Each command takes only the options it uses.
COMMANDS = {
    "spec": ((_who, _rules, _output, _against), "the roll-number configuration table"),
    "stress-test": ((_who, _rules, _output, _training, _running, _plots), "Part A (and Q2)"),
    "part-b": ((_who, _output), "Part B"),
    "lab": (
        (_who, _rules, _output, _training, _running, _plots),
        "the whole lab: Part A, Q2, Part B",
    ),
    "check": (
        (_who, _rules, _output, _training, _running),
        "train the lab network and check autograd against the notebook's matrix-form "
        "backprop at every epoch (exit 1 if not)",
    ),
    "graph": ((_graph_options,), "draw the lab network's computation graph"),
    "explore": (
        (_explore_options,),
        "step through the lab network's backward in the browser (one HTML page)",
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinygrad-lab",
        description="Run the course lab (Lab 6: deep network structural stress test) with "
        "tinygrad_lab, for one roll number, many seeds, or a whole class.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups = {add: _options(add) for adds, _ in COMMANDS.values() for add in adds}
    for name, (adds, help_text) in COMMANDS.items():
        command = sub.add_parser(name, parents=[groups[add] for add in adds], help=help_text)
        command.set_defaults(**UNUSED)
    add_digits_arguments(sub.add_parser("digits", help="train a CNN on handwritten digits"))
    add_study_arguments(
        sub.add_parser("study", help="a lab question over many seeds: depth, init, lr")
    )
    add_audit_arguments(
        sub.add_parser("audit", help="check a class's submissions against the rules and seeds")
    )
    return parser


# What a command that takes no such option runs with (the options' own defaults).
UNUSED = {
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


INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports `yes | head`'s yes


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, already printed)
        return int(exit_.code or 0)
    from tinygrad_lab.lab.output.files import OutputError

    try:
        return _dispatch(args)
    except (UsageError, OutputError, RollNumberError, ValueError, ImportError) as err:
        print(f"tinygrad-lab: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a pool is stopped and staged files removed on the way here
        print("tinygrad-lab: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # stdout closed early (| head): the files are already written
        _silence_stdout()
        return BROKEN_PIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail on the closed
    pipe again (and print a traceback after all)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (stdout replaced, as in tests)
        pass
    finally:
        os.close(devnull)


def _dispatch(args: argparse.Namespace) -> int:
    from tinygrad_lab.lab.stress.sweep import SweepError

    try:
        if args.command == "graph":
            return _graph(args)
        if args.command == "explore":
            return _explore(args)
        if args.command == "digits":
            return digits_command(args, _check_out)
        if args.command == "study":
            return study_command(args, _check_out)
        if args.command == "audit":
            return audit_command(args, _check_out)
        roster = _roster(args)
        configs = _configs(args, roster)
        if args.command == "spec":
            return _spec(args, configs, roster)
        runs = _lab_runs(args, configs)
        if args.command == "check":
            return _check(args, runs)
        return _run(args, runs, roster)
    except SweepError as err:
        raise UsageError(str(err)) from None


def _roster(args: argparse.Namespace) -> Roster | None:
    """The --rolls roster (its bad rows and repeats noted on stderr), or None."""
    from tinygrad_lab.lab.roster import Roster, notes_on_stderr

    if args.rolls is None:
        if args.roll_column is not None:
            raise UsageError("--roll-column names a column of the roster: give --rolls ROSTER")
        return None
    with notes_on_stderr():
        return Roster.read(args.rolls, args.roll_column)


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
    from tinygrad_lab.lab.roster import notes_on_stderr
    from tinygrad_lab.lab.stress.sweep import parse_seeds

    with notes_on_stderr():
        seeds = parse_seeds(args.seeds) if args.seeds is not None else [args.seed]
    return [
        LabRun(config, seed, config.epochs if args.epochs is None else args.epochs)
        for config in configs
        for seed in seeds
    ]


def _spec(args: argparse.Namespace, configs: list[LabConfig], roster: Roster | None) -> int:
    from tinygrad_lab.lab.stress.outputs import write_spec

    if args.against is not None:
        from tinygrad_lab.lab.stress.spec_against import write_against

        against = lab_config(args.against, args.activation, args.added_layers)
        return write_against(configs, against, _check_out(args.out), args.json)
    out = _check_out(args.out)
    write_spec(configs, out, json=args.json, roster=roster)
    return 0


def _check_out(out: Path | None) -> Path | None:
    """``out`` checked before any work, without making it: it is made when there is
    something to put in it."""
    from tinygrad_lab.lab.output.files import check_out

    if out is not None:
        check_out(out)
    return out


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
    from tinygrad_lab.lab.stress.sweep import dask_executor, run_many

    executor = dask_executor(args.scheduler) if args.scheduler else None
    progress = not args.no_progress and not args.json
    return run_many(runs, executor=executor, workers=args.workers, progress=progress, fn=fn)


def _run(args: argparse.Namespace, runs: list[LabRun], roster: Roster | None) -> int:
    from tinygrad_lab.lab import outputs
    from tinygrad_lab.lab.stress.compute import compute_lab

    if roster is not None and args.out is None:
        raise UsageError("--rolls needs --out DIR for the per-roll folders and class summary")
    out = _check_out(args.out)
    _check_plots(args)
    # the full Hessian's check of λmax costs a backward a parameter: one run's report has it
    check = ("hessian",) if len(runs) == 1 and roster is None else ()
    results = _run_all(args, runs, partial(compute_lab, parts=PARTS[args.command] + check))
    options = {"json": args.json, "plots": not args.no_plots}
    if roster is not None:
        outputs.write_class(results, out, roster=roster, **options)
    elif len(runs) > 1:
        outputs.write_sweep(results, out, **options)
    else:
        outputs.write_single(results[0], out, **options)
    return 0


def _check(args: argparse.Namespace, runs: list[LabRun]) -> int:
    from tinygrad_lab.lab.stress.check import check_lab
    from tinygrad_lab.lab.stress.outputs import write_check

    out = _check_out(args.out)
    results = _run_all(args, runs, check_lab)
    write_check(results, out, json=args.json)
    return 0 if all(r.passed for r in results) else 1


def _graph(args: argparse.Namespace) -> int:
    from tinygrad_lab.lab.stress.graph import graph_command
    from tinygrad_lab.viz import GraphvizNotFoundError

    roll = parse_roll(args.roll)
    _check_out(args.out.parent)
    try:
        path = graph_command(roll, args.out, layers=args.layers, grads=args.grads, seed=args.seed)
    except GraphvizNotFoundError as err:  # no dot: the DOT source is written instead
        raise UsageError(str(err)) from None
    print(f"wrote {path}")
    return 0


def _explore(args: argparse.Namespace) -> int:
    from tinygrad_lab.lab.explorer.explore import explore_command
    from tinygrad_lab.viz import GraphvizNotFoundError

    _check_out(args.out.parent)
    try:
        path = explore_command(
            args.roll, args.seed, args.epoch, out=args.out, run=args.run, depth=args.depth
        )
    except (GraphvizNotFoundError, OSError) as err:  # one line, as every other command's
        raise UsageError(str(err)) from None
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
