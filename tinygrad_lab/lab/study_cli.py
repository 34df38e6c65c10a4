"""``tinygrad-lab study KIND``: its options, checked before anything runs or is written (a bad
one is one line on stderr naming it and what was expected, exit status 2), and the command."""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_lab.lab.rules import EPOCHS, EXAMPLE_ROLL, RollNumberError, lab_config, parse_roll
from tinygrad_lab.lab.seed_axis import INITS
from tinygrad_lab.lab.sequences.cli import add_time_arguments, time_command, time_study_from_args
from tinygrad_lab.lab.study import DEFAULT_ACTIVATIONS, KINDS, Study, run_study
from tinygrad_lab.lab.sweep import SweepError, parse_seeds
from tinygrad_lab.nn import ACTIVATIONS

# the option each kind varies, which the other kinds reject rather than ignore
ONLY_FOR = {"depths": "depth", "inits": "init", "lrs": "lr", "added_layers": "init"}
ONLY_FOR |= {"lengths": "time", "cells": "time", "steps": "time"}  # lab.sequences


def _roll(text: str) -> str:
    try:
        return parse_roll(text)
    except RollNumberError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(parse_seeds(text))
    except SweepError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _whole(minimum: int, what: str) -> Any:
    def parse(text: str) -> int:
        if not re.fullmatch(r"\s*\d+\s*", text) or int(text) < minimum:
            raise argparse.ArgumentTypeError(
                f"expected {what} (a whole number >= {minimum}), got {text!r}"
            )
        return int(text)

    return parse


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


def _names(known: Any, what: str) -> Any:
    """A comma-separated list of names from ``known``, each once."""

    def parse(text: str) -> tuple[str, ...]:
        names = [name.strip() for name in text.split(",")]
        expected = f"{what}s from {', '.join(sorted(known))}, comma-separated"
        for name in names:
            if name not in known:
                raise argparse.ArgumentTypeError(f"unknown {what} {name!r}; expected {expected}")
        if len(set(names)) < len(names):
            raise argparse.ArgumentTypeError(f"expected {expected}, each once; got {text!r}")
        return tuple(names)

    return parse


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


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``study`` command's options (the CLI adds the subcommand, this its options)."""
    parser.add_argument(
        "kind", choices=(*KINDS, "time"), metavar="KIND", help="depth, init, lr, time"
    )
    add_time_arguments(parser, _names, _whole)
    parser.add_argument(
        "--roll", type=_roll, default=EXAMPLE_ROLL, help=f"roll number (default {EXAMPLE_ROLL})"
    )
    parser.add_argument(
        "--seeds", type=_seeds, metavar="RANGE", help="seeds (default 0-49; time 0-4)"
    )
    parser.add_argument(
        "--depths", type=_depths, metavar="RANGE", help="depth study: hidden depths (default 1-20)"
    )
    parser.add_argument(
        "--activations",
        type=_names(ACTIVATIONS, "activation"),
        metavar="LIST",
        help=f"activations (depth: {','.join(DEFAULT_ACTIVATIONS)}; init, lr: the roll's)",
    )
    parser.add_argument(
        "--inits",
        type=_names(INITS, "init"),
        metavar="LIST",
        help=f"init study: inits (default {','.join(INITS)})",
    )
    parser.add_argument(
        "--lrs", type=_lrs, metavar="LOW:HIGH:COUNT", help="lr study: rates (default 1e-4:1:13)"
    )
    parser.add_argument(
        "--epochs", type=_whole(1, "epochs"), help=f"epochs a run (default {EPOCHS})"
    )
    parser.add_argument(
        "--added-layers",
        type=_whole(0, "added layers"),
        metavar="K",
        help="init study: layers added at the break (default: the rule)",
    )
    parser.add_argument(
        "--workers", type=_whole(1, "workers"), help="local processes (default: every core)"
    )
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    parser.add_argument("--json", action="store_true", help="print the study as JSON")
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="write study.md, .csv, .json, plots"
    )


def study_from_args(args: argparse.Namespace) -> Study:
    """The `Study` the options describe; a ValueError naming an option its kind does not use."""
    for option, kind in ONLY_FOR.items():
        if getattr(args, option) is not None and args.kind != kind:
            flag = "--" + option.replace("_", "-")
            raise ValueError(
                f"argument {flag}: only the {kind} study takes it, not the {args.kind} study"
            )
    if args.kind == "time":
        return time_study_from_args(args)
    given = {
        name: getattr(args, name)
        for name in ("seeds", "epochs", "depths", "activations", "inits", "lrs")
        if getattr(args, name) is not None
    }
    return Study(args.kind, lab_config(args.roll, added_layers=args.added_layers), **given)


def study_command(args: argparse.Namespace, prepare_out: Any) -> int:
    """Run ``tinygrad-lab study``; ``prepare_out(path)`` makes ``--out`` writable (or raises),
    called once every option is known to be good, before any training."""
    from tinygrad_lab.lab.study_report import markdown, to_json, write_study
    from tinygrad_lab.lab.sweep import dask_executor

    study = study_from_args(args)
    if args.kind == "time":
        return time_command(study, args, prepare_out)
    plots = args.out is not None and not args.no_plots
    if plots:
        from tinygrad_lab.lab.plots import pyplot

        pyplot()  # an ImportError naming the extra, before anything is written
    executor = dask_executor(args.scheduler) if args.scheduler else None
    out = prepare_out(args.out) if args.out is not None else None
    result = run_study(study, executor, args.workers, progress=not (args.no_progress or args.json))
    written = write_study(result, out, plots=plots) if out is not None else []
    if args.json:
        print(json.dumps(to_json(result), allow_nan=False))
    else:
        print(markdown(result))
        if written:
            print("\nwrote " + ", ".join(str(p) for p in written))
    return 0
