"""``tinygrad-lab study time``: the time study's own options (the other kinds reject them, and it
rejects theirs), checked before anything runs or is written, and the `TimeStudy` they describe.
The ``study`` command (`studies.command`) runs it as it runs every kind."""

from __future__ import annotations

import argparse
import re

from tinygrad_lab.lab import options
from tinygrad_lab.lab.rules import EXAMPLE_ROLL
from tinygrad_lab.lab.sequences.model import CELLS
from tinygrad_lab.lab.sequences.study import (
    DEFAULT_CELLS,
    DEFAULT_LENGTHS,
    DEFAULT_STEPS,
    TimeStudy,
)

# the other kinds' options that have no default, which the time study rejects rather than ignores
NOT_FOR_TIME = {"activations": "--cells", "epochs": "--steps"}


def _lengths(text: str) -> tuple[int, ...]:
    """``4,8,16,32``: sequence lengths, each a whole number >= 2, each once."""
    expected = "sequence lengths like 4,8,16,32 (whole numbers >= 2, each once)"
    parts = [part.strip() for part in text.split(",")]
    if not all(re.fullmatch(r"\d+", part) and int(part) >= 2 for part in parts):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    lengths = tuple(int(part) for part in parts)
    if len(set(lengths)) < len(lengths):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return lengths


OPTIONS = ("lengths", "cells", "steps")  # the time study's own: the other kinds reject them


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The time study's options, beside the ``study`` command's shared ones."""
    lengths = ",".join(map(str, DEFAULT_LENGTHS))
    parser.add_argument(
        "--lengths",
        type=_lengths,
        action=options.Once,
        metavar="LIST",
        help=f"time study: lengths (default {lengths})",
    )
    parser.add_argument(
        "--cells",
        type=options.names(CELLS, "cell"),
        action=options.Once,
        metavar="LIST",
        help=f"time study: cells (default {','.join(DEFAULT_CELLS)})",
    )
    parser.add_argument(
        "--steps",
        type=options.whole_number(1, expected="steps (a whole number >= 1)"),
        action=options.Once,
        help=f"time study: Adam steps a run (default {DEFAULT_STEPS})",
    )


def time_study_from_args(args: argparse.Namespace) -> TimeStudy:
    """The `TimeStudy` the options describe; a ValueError naming an option it does not take
    (the options only another kind takes are rejected by ``studies.command.ONLY_FOR`` already)."""
    if args.roll != EXAMPLE_ROLL:  # (its default: only a roll other than it can be told apart)
        raise ValueError("argument --roll: the time study has no roll number")
    for option, instead in NOT_FOR_TIME.items():
        if getattr(args, option) is not None:
            raise ValueError(
                f"argument --{option}: the time study does not take it (it takes {instead})"
            )
    given = {
        name: getattr(args, name)
        for name in ("cells", "lengths", "seeds", "steps")
        if getattr(args, name) is not None
    }
    return TimeStudy(**given)
