"""How much slower is learning with tinygrad_lab than the notebook's hand-written NumPy, and how
does it compare with PyTorch on the CPU? ``python benchmarks/run.py --help``; see README.md.

The process first makes its own environment fair, before NumPy is imported: BLAS and OpenMP
pinned to ``--threads`` (1 by default) for every contender, glibc's heap never trimmed (freeing
memory back to the system between epochs was seen to double small-array timings) and the
OpenBLAS core-type overrides of these machines unset. Environment variables only take effect
at start-up, so the script re-executes itself once with them set.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import sys
from typing import Any

_TUNED = "TINYGRAD_LAB_BENCH_TUNED"  # set in the re-executed process
_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the test suite's run)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads")
    parser.add_argument("--repeats", type=int, default=None, help="repeats (default 5, quick 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--only", default="W1,W2,W3,W4,W5,W6,W7,W8,W9", help="comma-separated workloads, e.g. W1,W3"
    )
    parser.add_argument(
        "--keep-openblas-env",
        action="store_true",
        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE if set (default: unset both)",
    )
    args = parser.parse_args(argv)
    if args.threads < 1 or (args.repeats is not None and args.repeats < 1):
        parser.error("--threads and --repeats must be at least 1")
    args.only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(args.only) - {"W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9"})
    if unknown:
        parser.error(f"--only: unknown workloads {unknown}; expected some of W1..W9")
    args.repeats = args.repeats or (1 if args.quick else 5)
    return args


def wanted_environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    threads = str(args.threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = threads
    # Never give freed heap memory back to the system, and keep arrays up to 32 MiB (W2's) on
    # the heap instead of a fresh mmap (zeroed pages, page faults) at every allocation.
    env.setdefault("MALLOC_TRIM_THRESHOLD_", str(1 << 30))
    env.setdefault("MALLOC_MMAP_THRESHOLD_", str(32 << 20))
    if not args.keep_openblas_env:
        for var in _UNSET:
            if var in env:
                env[f"TINYGRAD_LAB_BENCH_WAS_{var}"] = env.pop(var)
    return env


def ensure_environment(args: argparse.Namespace, argv: list[str], script: str = __file__) -> None:
    """Re-execute ``script`` (this one, or another benchmark's) once with the benchmark's
    environment (it must exist at start)."""
    env = wanted_environment(args)
    if env == dict(os.environ):
        return
    if os.environ.get(_TUNED):
        raise RuntimeError("benchmark environment could not be set; refusing to loop")
    env[_TUNED] = "1"
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, os.path.abspath(script), *argv], env)


# --------------------------------------------------------------------------------- machine
def openblas_info() -> dict[str, str]:
    """The OpenBLAS NumPy loaded: its file, the kernel it chose and its thread count."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return {"library": "unknown (no /proc/self/maps)"}
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "64_"), ("openblas_", "")):
            try:
                corename = getattr(lib, f"{prefix}get_corename{suffix}")
                threads = getattr(lib, f"{prefix}get_num_threads{suffix}")
            except AttributeError:
                continue
            corename.restype = ctypes.c_char_p
            return {
                "library": os.path.basename(path),
                "kernel": corename().decode(),
                "threads": str(threads()),
            }
    return {"library": "not OpenBLAS, or not found"}


def machine_info(args: argparse.Namespace) -> dict[str, object]:
    import numpy as np

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if "model name" in line), cpu
            )
    except OSError:
        pass
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    import tinygrad_lab

    unset = {
        v: os.environ[f"TINYGRAD_LAB_BENCH_WAS_{v}"]
        for v in _UNSET
        if f"TINYGRAD_LAB_BENCH_WAS_{v}" in os.environ
    }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch_version,
        # which package was measured (PYTHONPATH=<a worktree> benchmarks another version)
        "tinygrad_lab": os.path.dirname(os.path.abspath(tinygrad_lab.__file__)),
        "blas": openblas_info(),
        "threads": args.threads,
        "environment": {
            v: os.environ.get(v, "")
            for v in (
                "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS",
                "MALLOC_TRIM_THRESHOLD_",
                "MALLOC_MMAP_THRESHOLD_",
                *_UNSET,
            )
        },
        "unset_for_the_run": unset,
    }


# --------------------------------------------------------------------------------- main
def chain_targets(key: str, workload: Any, results: dict[str, Any]) -> list[dict[str, Any]]:
    """A chain of several lengths: backward per node stays flat. One length (the per-op
    floor): its time per node, forward and backward, against torch's on the same chain (W7:
    with tensors as the constants, and with Python numbers)."""
    ours = results["tinygrad_lab"]
    if len(workload.lengths) > 1:
        growth = ours["backward_growth"]
        what = f"tinygrad_lab backward time per node flat (≤ {workload.max_growth}× the shortest)"
        return [
            {"workload": key, "what": what, "ratio": growth, "met": growth <= workload.max_growth}
        ]
    (length,) = workload.lengths

    def per_node(r: dict[str, Any]) -> float:
        row = r["by_length"][length]
        return row["forward_per_node_s"] + row["backward_per_node_s"]

    targets = []
    for contender, baseline, what in workload.floor_targets:
        if baseline not in results:  # reported as not measured, like a timing target without torch
            targets.append({"workload": key, "what": what, "ratio": None, "met": None})
            continue
        ratio = per_node(results[contender]) / per_node(results[baseline])
        targets.append({"workload": key, "what": what, "ratio": ratio, "met": ratio <= 1.0})
    return targets


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    ensure_environment(args, argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import workloads
    from workloads.harness import (
        chain_table,
        memory_table,
        run_timing,
        second_order_table,
        timing_table,
    )

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    machine = machine_info(args)
    log(
        f"machine: {machine['cpu']}, numpy {machine['numpy']}, torch {machine['torch']}, "
        f"BLAS {machine['blas']}, {args.threads} thread(s); tinygrad_lab from "
        f"{machine['tinygrad_lab']}"
    )
    report: dict[str, object] = {"machine": machine, "quick": args.quick, "repeats": args.repeats}
    timing, tables, targets, ok = [], [], [], True
    for key in args.only:
        if key in workloads.TIMING:
            workload = workloads.TIMING[key](args.quick, args.threads)
            log(f"{key}: {workload.title}")
            summary = run_timing(workload, args.repeats, log)
            timing.append(summary)
            targets += summary["targets"]
            ok &= all(c.get("agrees", True) for c in summary["contenders"].values())
        elif key in workloads.CHAINS:
            workload = workloads.CHAINS[key](args.quick, args.threads)
            log(f"{key}: {workload.title}")
            results = workloads.run_chains(workload, log)
            report[key] = {"title": workload.title, "contenders": results, "notes": workload.notes}
            tables.append(chain_table(key, results, workload.notes))
            targets += chain_targets(key, workload, results)
        elif key in workloads.SECOND_ORDER:
            workload = workloads.SECOND_ORDER[key](args.quick, args.threads)
            log(f"{key}: {workload.title}")
            results = workloads.run_second_order(workload, args.repeats, log)
            report[key] = {"title": workload.title, "contenders": results}
            tables.append(second_order_table(key, results))
            targets += workloads.second_order_targets(key, results)
            ok &= all(r.get("agrees", True) for r in results.values())
        else:
            workload = workloads.MEMORY[key](args.quick, args.threads)
            log(f"{key}: {workload.title}")
            results = workloads.run_memory(workload, log)
            report[key] = {"title": workload.title, "contenders": results}
            tables.append(memory_table(key, results))
            for name, r in results.items():
                if r["bounded"]:
                    targets.append(
                        {
                            "workload": key,
                            "what": f"{name}: peak memory flat (≤ {workload.max_growth:.0%} rise)",
                            "ratio": 1 + r["peak_growth"],
                            "met": r["peak_growth"] <= workload.max_growth,
                        }
                    )
    report["timing"] = timing
    report["targets"] = targets
    print(
        f"\n{machine['cpu']} ({machine['cores']} cores), Python {machine['python']}, NumPy "
        f"{machine['numpy']} ({machine['blas'].get('kernel', '?')}), torch {machine['torch']}, "
        f"{args.threads} thread(s), {args.repeats} repeat(s){' (quick)' if args.quick else ''}\n"
    )
    for s in timing:
        print(f"{s['key']}: {s['title']} ({s['rounds']} paired rounds)")
    if timing:
        print("\n" + timing_table(timing) + "\n")
    for table in tables:
        print(table + "\n")
    for t in targets:
        mark = "—" if t["met"] is None else ("met" if t["met"] else "MISSED")
        ratio = "n/a" if t["ratio"] is None else f"{t['ratio']:.2f}"
        print(f"{t['workload']}: {t['what']}: {ratio} {mark}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, default=str)
    if not ok:
        print("\nsome contender's result disagrees with the NumPy reference: see the table")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
