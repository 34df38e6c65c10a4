"""``tinygrad-lab digits``: its options, and the run."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace
from typing import Any

from tinygrad_lab.lab import options
from tinygrad_lab.lab.digits.data import load_data
from tinygrad_lab.lab.digits.model import FAST, DigitsConfig
from tinygrad_lab.lab.digits.plots import digits_pyplot
from tinygrad_lab.lab.digits.report import markdown_report, write_digits_outputs
from tinygrad_lab.lab.digits.train import _check_batch_size, train_digits
from tinygrad_lab.lab.options import Once, ready_out, whole_number


def _positive_float(text: str) -> float:
    """An argparse type: a finite number >= 1e-12 (``--lr``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value >= 1e-12 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be at least 1e-12, got {text}")
    return value


def _whole(minimum: int) -> Any:
    return whole_number(minimum, expected="a number", must_be=f"at least {minimum}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``digits`` command's options."""
    default = DigitsConfig()
    options.add_seed(parser)
    parser.add_argument(
        "--epochs", type=_whole(1), action=Once, help=f"epochs (default {default.epochs})"
    )
    parser.add_argument(
        "--batch-size",
        type=_whole(1),
        action=Once,
        help=f"examples a batch (default {default.batch_size})",
    )
    parser.add_argument(
        "--lr",
        type=_positive_float,
        action=Once,
        help=f"Adam's learning rate (default {default.learning_rate:g})",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help=f"the test suite's smaller network ({FAST.channels[0]} and {FAST.channels[1]} "
        f"channels, {FAST.epochs} epochs)",
    )
    options.add_json(parser, "print the figures as JSON")
    options.add_out(parser, "write the report and plots here")
    options.add_no_progress(parser)
    options.add_no_plots(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``tinygrad-lab digits``; ``--out`` is checked once the data and matplotlib are
    known to load, before any training."""
    config = FAST if args.fast else DigitsConfig()
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr}
    config = replace(
        config, seed=args.seed, **{k: v for k, v in overrides.items() if v is not None}
    )
    data = load_data()  # an ImportError naming the extra, before anything is written
    _check_batch_size(config, data)
    plots = args.out is not None and not args.no_plots
    if plots:
        digits_pyplot()
    out = ready_out(args.out)
    result = train_digits(config, data, progress=not (args.no_progress or args.json))
    if args.json:
        print(json.dumps(result.to_json(), allow_nan=False))
    else:
        print(markdown_report(result, plots=False))
    if out is not None:
        written = write_digits_outputs(out, result, plots=plots)
        if not args.json:
            print("\nwrote " + ", ".join(str(p) for p in written))
    return 0
