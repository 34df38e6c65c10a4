"""``tinygrad-lab study KIND``: its options, checked before anything runs or is written (a bad
one is one line on stderr naming it and what was expected, exit status 2), and the command."""

from __future__ import annotations

import argparse
import json
import math
import re

import numpy as np

from tinygrad_lab.lab import options
from tinygrad_lab.lab.options import Once, non_negative_int, ready_out
from tinygrad_lab.lab.rules import EPOCHS, EXAMPLE_ROLL, lab_config
from tinygrad_lab.lab.sequences import command as time_command
from tinygrad_lab.lab.studies.compute import DEFAULT_ACTIVATIONS, KINDS, Study, run_study
from tinygrad_lab.lab.studies.seed_axis import INITS
from tinygrad_lab.nn import ACTIVATIONS

# the option each kind varies, which the other kinds reject rather than ignore
ONLY_FOR = {"depths": "depth", "inits": "init", "lrs": "lr", "added_layers": "init"}
ONLY_FOR |= dict.fromkeys(time_command.OPTIONS, "time")  # (lab.sequences)


def _depths(text: str) -> tuple[int, ...]:
    """``1-20``, ``5`` or ``2,4,8``: hidden depths, each >= 1, ranges inclusive and rising."""
    expected = "hidden depths like 1-20, 5 or 2,4,8 (whole numbers >= 1)"
    depths: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        low, high = int(match[1]), int(match[2] or match[1])
        if high < low:
            raise argparse.ArgumentTypeError(
                f"expected {expected}, got {part.strip()!r}: the range is reversed ({low} > {high})"
            )
        if low < 1:
            raise argparse.ArgumentTypeError(
                f"expected {expected}, got {part.strip()!r}: depth 0 has no hidden layer"
            )
        depths.extend(range(low, high + 1))
    return tuple(depths)


def _lrs(text: str) -> tuple[float, ...]:
    """``LOW:HIGH:COUNT`` (COUNT log-spaced rates from LOW to HIGH) or ``0.001,0.01``."""
    expected = (
        "learning rates as LOW:HIGH:COUNT (log-spaced, e.g. 1e-4:1:13) or a list like 0.001,0.01"
    )
    parts = text.split(":")
    try:
        numbers = [float(p) for p in (parts[:2] if len(parts) == 3 else text.split(","))]
        count = int(parts[2]) if len(parts) == 3 else len(numbers)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    bad = [n for n in numbers if not (math.isfinite(n) and n > 0)]
    if bad or len(parts) not in (1, 3):
        why = f"learning rates must be positive, got {bad[0]:g}" if bad else f"got {text!r}"
        raise argparse.ArgumentTypeError(f"expected {expected}: {why}")
    if len(parts) == 1:
        return tuple(numbers)
    low, high = numbers
    if high < low or count < 1 or (count == 1 and low != high):
        raise argparse.ArgumentTypeError(
            f"expected {expected}, got {text!r}: LOW must not exceed HIGH, and COUNT must be "
            "at least 2 (or 1 with LOW = HIGH)"
        )
    return tuple(float(lr) for lr in np.logspace(math.log10(low), math.log10(high), count))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``study`` command's options."""
    parser.add_argument(
        "kind", choices=(*KINDS, "time"), metavar="KIND", help="depth, init, lr or time"
    )
    options.add_roll(parser, default=EXAMPLE_ROLL, help=f"roll number (default {EXAMPLE_ROLL})")
    options.add_seeds(parser, "seeds (default 0-49; time: 0-4)")
    time_command.add_arguments(parser)
    parser.add_argument(
        "--depths",
        type=_depths,
        action=Once,
        metavar="RANGE",
        help="depth study: hidden depths (default 1-20)",
    )
    parser.add_argument(
        "--activations",
        type=options.names(ACTIVATIONS, "activation"),
        action=Once,
        metavar="LIST",
        help=f"activations (depth: {','.join(DEFAULT_ACTIVATIONS)}; init, lr: the roll's)",
    )
    parser.add_argument(
        "--inits",
        type=options.names(INITS, "init"),
        action=Once,
        metavar="LIST",
        help=f"init study: inits (default {','.join(INITS)})",
    )
    parser.add_argument(
        "--lrs",
        type=_lrs,
        action=Once,
        metavar="LOW:HIGH:COUNT",
        help="lr study: rates (default 1e-4:1:13)",
    )
    options.add_epochs(parser, f"epochs a run (default {EPOCHS})")
    parser.add_argument(
        "--added-layers",
        type=non_negative_int,
        action=Once,
        metavar="K",
        help="init study: layers added at the break (default: the rule)",
    )
    options.add_workers(parser)
    options.add_scheduler(parser)
    options.add_no_progress(parser)
    options.add_no_plots(parser)
    options.add_json(parser, "print the study as JSON")
    options.add_out(parser, "write study.md, .csv, .json, plots")


def study_from_args(args: argparse.Namespace) -> Study | time_command.TimeStudy:
    """The `Study` the options describe; a ValueError naming an option its kind does not use."""
    for option, kind in ONLY_FOR.items():
        if getattr(args, option) is not None and args.kind != kind:
            flag = "--" + option.replace("_", "-")
            raise ValueError(
                f"argument {flag}: only the {kind} study takes it, not the {args.kind} study"
            )
    if args.kind == "time":
        return time_command.time_study_from_args(args)
    given = {
        name: getattr(args, name)
        for name in ("seeds", "epochs", "depths", "activations", "inits", "lrs")
        if getattr(args, name) is not None
    }
    return Study(args.kind, lab_config(args.roll, added_layers=args.added_layers), **given)


def run(args: argparse.Namespace) -> int:
    """Run ``tinygrad-lab study``; ``--out`` is checked once every option is known to be good,
    before any training."""
    from tinygrad_lab.lab.pool import dask_executor

    study = study_from_args(args)
    if args.kind == "time":
        from tinygrad_lab.lab.sequences import report
        from tinygrad_lab.lab.sequences.study import run_time_study as compute

        write = report.write_time_study
    else:
        from tinygrad_lab.lab.studies import report

        compute, write = run_study, report.write_study
    plots = args.out is not None and not args.no_plots
    if plots:
        from tinygrad_lab.lab.output.plotting import pyplot

        pyplot()  # an ImportError naming the extra, before anything is written
    executor = dask_executor(args.scheduler) if args.scheduler else None
    out = ready_out(args.out)
    result = compute(study, executor, args.workers, progress=not (args.no_progress or args.json))
    written = write(result, out, plots=plots) if out is not None else []
    if args.json:
        print(json.dumps(report.to_json(result), allow_nan=False))
    else:
        print(report.markdown(result))
        if written:
            print("\nwrote " + ", ".join(str(p) for p in written))
    return 0
