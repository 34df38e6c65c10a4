"""``tinygrad-lab audit PATH...``: its options and its run. Exit status 0 when every submission
is clean (and, with a roster, every student on it handed one in and every submission's roll is
on it), 1 when any is not (or a file could not be read), 2 for a usage error (the CLI's own)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tinygrad_lab.lab import options
from tinygrad_lab.lab.audit.plots import SPREAD_SEEDS
from tinygrad_lab.lab.options import Once, positive_int, read_roster, ready_out
from tinygrad_lab.lab.output.plotting import PLOT_HINT
from tinygrad_lab.lab.rules import NOTEBOOK_SEEDS

if TYPE_CHECKING:
    from tinygrad_lab.lab.audit.plots import ClassGRI
    from tinygrad_lab.lab.audit.result import ClassAudit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``audit`` command's options."""
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="submissions: files or folders"
    )
    options.add_out(parser, "write audit.md, audit.csv here")
    parser.add_argument(
        "--seed-range",
        type=options.seed_range,
        action=Once,
        default=NOTEBOOK_SEEDS,
        metavar="RANGE",
        help=f"seeds searched (default {NOTEBOOK_SEEDS[0]}-{NOTEBOOK_SEEDS[1]})",
    )
    options.add_workers(parser)
    options.add_no_progress(parser)
    options.add_json(parser, "print the whole audit as JSON")
    options.add_rolls(
        parser,
        "the class roster (CSV, tab- or semicolon-separated, or .xlsx): who handed in "
        "nothing, whose roll is not on it; its columns (name, email) beside each roll",
        column=parser,
    )
    options.add_no_plots(
        parser, "no class plot (its seed spread trains each roll's network over seeds)"
    )
    parser.add_argument(
        "--spread-seeds",
        type=positive_int,
        action=Once,
        default=SPREAD_SEEDS,
        metavar="N",
        help=f"seeds of the class plot's spread, evenly over --seed-range (default {SPREAD_SEEDS})",
    )


def _spread(args: argparse.Namespace, audit: ClassAudit, progress: bool) -> ClassGRI | None:
    """The class plot's data, with --out, unless --no-plots (or without matplotlib: a note)."""
    if args.out is None or args.no_plots:
        return None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(
            f"tinygrad-lab: note: no class plot: it needs matplotlib ({PLOT_HINT})",
            file=sys.stderr,
        )
        return None
    from tinygrad_lab.lab.audit.plots import class_gri

    count = args.spread_seeds
    return class_gri(audit.submissions, args.seed_range, count, args.workers, progress)


def run(args: argparse.Namespace) -> int:
    """Run ``tinygrad-lab audit``: the roster is read first, then ``--out`` checked."""
    from tinygrad_lab.lab.audit.report import audit_json, summary, write_audit
    from tinygrad_lab.lab.audit.run import audit_paths
    from tinygrad_lab.lab.audit.students import gradebook

    roster = read_roster(args, repeat="each is checked by hand")  # a repeat: a finding
    out = ready_out(args.out)
    progress = not (args.no_progress or args.json)
    audit = audit_paths(args.paths, args.seed_range, args.workers, progress)
    for error in audit.errors:
        print(f"tinygrad-lab: {error}", file=sys.stderr)
    if not audit.submissions:
        print("tinygrad-lab: error: no submission to audit", file=sys.stderr)
        return 2
    book = gradebook(audit, roster, args.paths, exclude=out)
    spread = _spread(args, audit, progress)
    written = write_audit(audit, out, book, spread, plot=spread is not None) if out else []
    if args.json:
        print(audit_json(audit, book))
    else:
        print(summary(audit, book))
        if written:
            print(
                f"\nwrote {out / 'audit.md'}, {out / 'audit.csv'}, {len(audit.submissions)} "
                f"submission reports, {out / 'grades.csv'} and {len(book.students())} feedback "
                f"files in {out / 'feedback'}"
                + (f", and the class plot {out / 'class_gri.png'}" if spread is not None else "")
            )
    return 0 if book.clean and not audit.errors else 1
