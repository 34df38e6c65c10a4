"""Benchmark A1/A2: the wall time of ``tinygrad-lab audit``, seed search included.

- A1: one submission, the two seed documents (`../shared/seeds/`, one student's notebook and
  write-up, each from its own seed). Target: ≤ 2 s.
- A2: a class of 60 submissions, each a notebook exported to text for its own roll and seed,
  made by the course notebook's own code (`tests/support/audit_submissions.py`), audited on this
  machine's cores through `audit_paths` (the sweeps' process pool). Target: ≤ 60 s.

Each time is the median of ``--repeats`` runs of `audit_paths` in this process (imports and the
class's files made beforehand, not timed). The run exits 1 if an audit does not find the seed
each submission was made with.

    python benchmarks/audit.py                  # A1 and A2, 3 repeats
    python benchmarks/audit.py --quick          # 4 submissions, 1 repeat (the test suite's)
    python benchmarks/audit.py --json audit.json

Like ``run.py``, the process first pins BLAS to one thread a process, keeps glibc's heap and
unsets the OpenBLAS core-type overrides (``--keep-openblas-env`` keeps them), re-executing
itself once with that environment.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent / "tests" / "data" / "seeds"  # a copy of ../shared/seeds
TARGETS = {"A1": 2.0, "A2": 60.0}
DOCUMENT_SEEDS = {"lab6-notebook.txt": 219, "lab6-readme.md": 144}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small class, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each audit")
    parser.add_argument("--class-size", type=int, default=60, help="submissions in A2")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads a process")
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="the seed documents' folder")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--keep-openblas-env", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.class_size = 1, 4
    if min(args.repeats, args.workers, args.threads, args.class_size) < 1:
        parser.error("--repeats, --class-size, --workers and --threads must be at least 1")
    return args


def ensure_environment(args: argparse.Namespace, argv: list[str]) -> None:
    """Re-execute once with run.py's benchmark environment (it must exist at start-up)."""
    sys.path.insert(0, str(HERE))
    from run import ensure_environment as reexec

    reexec(args, argv, script=__file__)


def make_class(folder: Path, size: int) -> dict[str, int]:
    """``size`` honest submissions, one folder each, made by the notebook's own code; returns
    each roll's seed."""
    sys.path.insert(0, str(HERE.parent / "tests" / "support"))
    from audit_submissions import as_text, cells, write

    made = {}
    for k in range(size):
        roll, seed = f"1023{k:05d}", (37 * k + 11) % 1000
        write(folder / roll, "lab6.txt", as_text(cells(roll, seed)))
        made[roll] = seed
    return made


def timed(paths: list[Path], repeats: int, workers: int) -> tuple[float, object]:
    from tinygrad_lab.lab.audit.run import audit_paths

    times, audit = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        audit = audit_paths(paths, workers=workers)
        times.append(time.perf_counter() - start)
    return statistics.median(times), audit


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    ensure_environment(args, argv)
    results, ok = {}, True
    seconds, audit = timed([args.seeds], args.repeats, args.workers)
    found = {d.path.name: d.seed for s in audit.submissions for d in s.reproduction}
    ok &= found == DOCUMENT_SEEDS
    results["A1"] = {"seconds": seconds, "seeds": found, "submissions": 1}
    with tempfile.TemporaryDirectory() as tmp:
        made = make_class(Path(tmp), args.class_size)
        seconds, audit = timed([Path(tmp)], args.repeats, args.workers)
    found = {s.roll: s.seeds[0] if s.seeds else None for s in audit.submissions}
    ok &= found == made
    results["A2"] = {
        "seconds": seconds,
        "submissions": args.class_size,
        "seeds_found": found == made,
    }
    print(f"{args.workers} worker(s), {args.threads} BLAS thread(s), {args.repeats} repeat(s)")
    for key, r in results.items():
        target = TARGETS[key]
        met = "met" if r["seconds"] <= target or args.quick else "MISSED"
        count, seconds = r["submissions"], r["seconds"]
        print(f"{key}: {count} submission(s): {seconds:.2f} s (target ≤ {target:g} s) {met}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if not ok:
        print("an audit did not find the seed a submission was made with")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
