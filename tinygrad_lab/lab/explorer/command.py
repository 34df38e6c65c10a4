"""``tinygrad-lab explore``: its options, and the page it writes."""

from __future__ import annotations

import argparse

from tinygrad_lab.lab import options
from tinygrad_lab.lab.options import Once, UsageError, positive_int, ready_out, whole_number

# --run and --depth are checked against the roll (`explore_command`), which names the range
any_whole = whole_number(0, expected="a whole number", must_be="a whole number >= 0")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_roll(parser, required=True)
    options.add_seed(parser)
    parser.add_argument(
        "--run",
        type=any_whole,
        action=Once,
        default=1,
        metavar="N",
        help="1 (default: before the structural break), 2 (after it: the deeper network Q5 "
        "asks about) or 3 (run 2's network trained on)",
    )
    parser.add_argument(
        "--depth",
        type=any_whole,
        action=Once,
        metavar="N",
        help="run 1's hidden layers, >= 1 (default: the roll's, 4 + (b mod 3)); runs 2 and 3 "
        "add the break's layers to it",
    )
    parser.add_argument(
        "--epoch",
        type=positive_int,
        action=Once,
        default=1,
        help="the epoch of that run to explore (default 1: before any update)",
    )
    options.add_out(parser, "the page: a .html file", required=True, metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from tinygrad_lab.lab.explorer.explore import explore_command
    from tinygrad_lab.viz import GraphvizNotFoundError

    ready_out(args.out.parent)
    try:
        path = explore_command(
            args.roll, args.seed, args.epoch, out=args.out, run=args.run, depth=args.depth
        )
    except (GraphvizNotFoundError, OSError) as err:  # one line, as every other command's
        raise UsageError(str(err)) from None
    print(f"wrote {path}")
    return 0
