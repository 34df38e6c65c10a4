"""Every option the lab's commands share, each added by one function here with its one parser;
`tinygrad_lab.lab.cli` registers the commands, each feature's ``command`` module its own
options. A bad value is one line naming the option and what was expected (argparse's
``argument --epochs: ...``), exit status 2, before any work.

The parsers: `whole_number` (every whole-number option), `seed_list` (``--seeds``),
`seed_range` (``--seed-range``), `roll` (``--roll``, ``--against``), `out_path` (``--out``: not
empty), and ``pathlib.Path`` for a roster or a submission."""

from __future__ import annotations

import argparse
import re
import warnings
from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tinygrad_lab.lab.output.tables import listed
from tinygrad_lab.lab.pool import DuplicateWarning, SweepError
from tinygrad_lab.lab.rules import EXAMPLE_ROLL, MAX_EPOCHS, RollNumberError, parse_roll

if TYPE_CHECKING:
    from tinygrad_lab.lab.roster import Roster


class UsageError(Exception):
    """A one-line error for the user; exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class Once(argparse.Action):
    """Store an option's value, refusing the option a second time: argparse would keep the
    last silently, and ``--roll A --roll B`` runs one of two rolls the user meant."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:  # fmt: skip
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            parser.error(f"{option_string} is given twice: give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


# ------------------------------------------------------------------------------ parsers
def is_whole_number(value: object, minimum: int | None = None) -> bool:
    """For the Python API: ``value`` is an int (NumPy's too, never a bool), >= ``minimum``."""
    whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
    return whole and (minimum is None or value >= minimum)


def whole_number(
    minimum: int, maximum: int | None = None, *, expected: str, must_be: str | None = None
) -> Callable[[str], int]:
    """An argparse type: a whole number from ``minimum`` (to ``maximum``). Not one: "expected
    ``expected``, got 'x'"; too small: "must be ``must_be``, got 0" (or, without ``must_be``,
    the "expected" line); too large: "must be at most ``maximum``"."""

    def parse(text: str) -> int:
        if not re.fullmatch(r"\s*[-+]?\d+\s*", text):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        value = int(text)
        if value < minimum:
            too_small = f"must be {must_be}, got {value}" if must_be else None
            raise argparse.ArgumentTypeError(too_small or f"expected {expected}, got {text!r}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,}, got {value:,}")
        return value

    return parse


POSITIVE = "a positive whole number"
positive_int = whole_number(1, expected=POSITIVE, must_be=POSITIVE)
non_negative_int = whole_number(0, expected="a whole number >= 0", must_be="at least 0")


def parse_seeds(text: str) -> list[int]:
    """``"0-49"``, ``"7"`` or ``"1,5,9"`` (ranges inclusive) as a list of seeds, each once; a
    seed given twice is a `DuplicateWarning`."""
    seeds: list[int] = []
    for part in str(text).split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise SweepError(
                f"bad seed range {text!r}: expected seeds like 0-49, 7 or 1,5,9 "
                "(non-negative whole numbers)"
            )
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if high < low:
            raise SweepError(f"bad seed range {part.strip()!r}: it is reversed ({low} > {high})")
        seeds.extend(range(low, high + 1))
    if not seeds:
        raise SweepError(f"bad seed range {text!r}: it holds no seed")
    once = list(dict.fromkeys(seeds))
    if len(once) < len(seeds):
        repeated = sorted(seed for seed, n in Counter(seeds).items() if n > 1)
        warnings.warn(
            DuplicateWarning(
                f"--seeds {text}: {listed('seed', repeated)} given more than once; "
                f"each runs once ({len(once)} seeds)"
            ),
            stacklevel=2,
        )
    return once


def seed_list(text: str) -> tuple[int, ...]:
    """An argparse type: `parse_seeds` (``--seeds``)."""
    try:
        return tuple(parse_seeds(text))
    except SweepError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def seed_range(text: str) -> tuple[int, int]:
    """An argparse type: one range of seeds, ``0-999``, as (first, last)."""
    seeds = seed_list(text)
    if list(seeds) != list(range(seeds[0], seeds[-1] + 1)):
        raise argparse.ArgumentTypeError(f"expected one range of seeds like 0-999, got {text!r}")
    return seeds[0], seeds[-1]


def names(known: Collection[str], what: str) -> Callable[[str], tuple[str, ...]]:
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


def roll(text: str) -> str:
    """An argparse type: a roll number (`parse_roll`)."""
    try:
        return parse_roll(text)
    except RollNumberError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def out_path(text: str) -> Path:
    """An argparse type: a path that is not empty (``Path("")`` would be the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got ''")
    return Path(text)


def read_roster(args: argparse.Namespace, **how: str) -> Roster | None:
    """The ``--rolls`` roster (its bad rows and repeats noted on stderr), or None; ``how``:
    `Roster.read`'s ``repeat``."""
    from tinygrad_lab.lab.roster import Roster, notes_on_stderr

    if args.rolls is None:
        if args.roll_column is not None:
            raise UsageError("--roll-column names a column of the roster: give --rolls ROSTER")
        return None
    with notes_on_stderr():
        return Roster.read(args.rolls, args.roll_column, **how)


def ready_out(out: Path | None) -> Path | None:
    """``--out`` checked before any work (`output.files.check_out`), without making it: it is
    made when there is something to put in it."""
    from tinygrad_lab.lab.output.files import check_out

    if out is not None:
        check_out(out)
    return out


# ------------------------------------------------------------------------------ options
def add_roll(parser: argparse.ArgumentParser, **how: object) -> None:
    """``--roll R``; ``how``: argparse's ``required``, ``default`` or ``help``."""
    how.setdefault("help", f"roll number (e.g. {EXAMPLE_ROLL})")
    parser.add_argument("--roll", type=roll, action=Once, **how)  # type: ignore[arg-type]


def add_rolls(parser: argparse.ArgumentParser, help: str, column: argparse.ArgumentParser) -> None:
    """``--rolls ROSTER`` (on ``parser``: a group it may be) and ``--roll-column NAME`` (on
    ``column``)."""
    parser.add_argument("--rolls", type=Path, action=Once, metavar="ROSTER", help=help)
    column.add_argument(
        "--roll-column",
        action=Once,
        metavar="NAME",
        help="the roster's column of roll numbers: its header (any case) or its number from 1",
    )


def add_seed(parser: argparse.ArgumentParser) -> argparse.Action:
    return parser.add_argument(
        "--seed", type=non_negative_int, action=Once, default=0, help="random seed (default 0)"
    )


def add_seeds(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--seeds", type=seed_list, action=Once, metavar="RANGE", help=help)


def add_epochs(parser: argparse.ArgumentParser, help: str) -> None:
    """``--epochs``: a positive whole number, at most `MAX_EPOCHS` (every epoch's loss is kept)."""
    epochs = whole_number(1, MAX_EPOCHS, expected="epochs (a positive whole number)")
    parser.add_argument("--epochs", type=epochs, action=Once, help=help)


def add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=positive_int,
        action=Once,
        help="local processes for several runs (default: every core)",
    )


def add_scheduler(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheduler",
        action=Once,
        metavar="ADDRESS",
        help="run on a Dask cluster (needs tinygrad_lab[dask])",
    )


def add_no_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_no_plots(parser: argparse.ArgumentParser, help: str = "write no PNG plots") -> None:
    parser.add_argument("--no-plots", action="store_true", help=help)


def add_json(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--json", action="store_true", help=help)


def add_out(
    parser: argparse.ArgumentParser, help: str, required: bool = False, metavar: str = "DIR"
) -> None:
    parser.add_argument(
        "--out", type=out_path, action=Once, required=required, metavar=metavar, help=help
    )
