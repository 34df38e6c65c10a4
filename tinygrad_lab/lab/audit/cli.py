"""``tinygrad-lab audit PATH...``: its options and its run. Exit status 0 when every submission
is consistent and reproduced, 1 when any has findings (or a file could not be read), 2 for a
usage error (the CLI's own)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tinygrad_lab.lab.rules import NOTEBOOK_SEEDS


def _seed_range(text: str) -> tuple[int, int]:
    from tinygrad_lab.lab.sweep import SweepError, parse_seeds

    try:
        seeds = parse_seeds(text)
    except SweepError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if seeds != list(range(seeds[0], seeds[-1] + 1)):
        raise argparse.ArgumentTypeError(f"expected one range of seeds like 0-999, got {text!r}")
    return seeds[0], seeds[-1]


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def add_audit_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``audit`` command's options (the CLI adds the subcommand, this its options)."""
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="submissions: files or folders"
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="write audit.md, audit.csv here")
    parser.add_argument(
        "--seed-range",
        type=_seed_range,
        default=NOTEBOOK_SEEDS,
        metavar="RANGE",
        help=f"seeds searched (default {NOTEBOOK_SEEDS[0]}-{NOTEBOOK_SEEDS[1]})",
    )
    parser.add_argument("--workers", type=_workers, help="local processes (default: every core)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the whole audit as JSON")


def audit_command(args: argparse.Namespace, prepare_out: Any) -> int:
    """Run ``tinygrad-lab audit``; ``prepare_out(path)`` makes ``--out`` writable (or raises)
    before anything is read."""
    from tinygrad_lab.lab.audit.report import audit_json, summary, write_audit
    from tinygrad_lab.lab.audit.run import audit_paths

    out = prepare_out(args.out) if args.out is not None else None
    progress = not (args.no_progress or args.json)
    audit = audit_paths(args.paths, args.seed_range, args.workers, progress)
    for error in audit.errors:
        print(f"tinygrad-lab: {error}", file=sys.stderr)
    if not audit.submissions:
        print("tinygrad-lab: error: no submission to audit", file=sys.stderr)
        return 2
    written = write_audit(audit, out) if out is not None else []
    if args.json:
        print(audit_json(audit))
    else:
        print(summary(audit))
        if written:
            print(
                f"\nwrote {out / 'audit.md'}, {out / 'audit.csv'} and {len(written) - 2} "
                "submission reports"
            )
    return 0 if audit.clean else 1
