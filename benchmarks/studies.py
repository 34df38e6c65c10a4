"""Benchmark S1: the wall time of the default depth study, ``tinygrad-lab study depth`` (hidden
depth 1…20 × relu, tanh, sigmoid, leaky_relu × seeds 0…49: 4,000 trainings of 400 epochs) on
this machine's cores, through `run_study` (the seed axis on `pool.run_many`'s process pool).
Target: ≤ 60 s.

Beside it, what training one seed at a time through the ordinary path (`nn.Sequential`,
`part_a.train`, the gradient recorder) would take: seed 0 of every setting is timed that way,
and the total for all the seeds is that time × the seeds ÷ the workers. Seed 0's figures must
agree with the study's to 1e-12 relative (the run exits 1 if not).

    python benchmarks/studies.py                  # the default study, 1 repeat
    python benchmarks/studies.py --quick          # tiny sizes (the test suite's run)
    python benchmarks/studies.py --repeats 3 --json studies.json

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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_SECONDS = 60.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny study (the test suite's)")
    parser.add_argument("--repeats", type=int, default=1, help="repeats of the study (default 1)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads a process")
    parser.add_argument("--no-baseline", action="store_true", help="skip the one-seed timing")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--keep-openblas-env", action="store_true")
    args = parser.parse_args(argv)
    if min(args.repeats, args.workers, args.threads) < 1:
        parser.error("--repeats, --workers and --threads must be at least 1")
    return args


def ensure_environment(args: argparse.Namespace, argv: list[str]) -> None:
    """Re-execute once with run.py's benchmark environment (it must exist at start-up)."""
    sys.path.insert(0, str(HERE))
    from run import ensure_environment as reexec

    reexec(args, argv, script=__file__)


def the_study(quick: bool):
    from tinygrad_lab.lab.rules import EXAMPLE_ROLL, lab_config
    from tinygrad_lab.lab.studies.compute import Study

    config = lab_config(EXAMPLE_ROLL)
    if quick:
        return Study("depth", config, seeds=(0, 1, 2, 3), epochs=20, depths=(1, 2, 3))
    return Study("depth", config)


def time_study(study, workers: int, repeats: int, log) -> tuple[list[float], list[float], object]:
    """Wall and CPU seconds (this process and its workers) of each repeat, and the result."""
    from tinygrad_lab.lab.studies.compute import run_study

    walls, cpus, result = [], [], None
    for repeat in range(repeats):
        before, start = os.times(), time.perf_counter()
        result = run_study(study, workers=workers, progress=False)
        wall, after = time.perf_counter() - start, os.times()
        cpus.append(sum(after[:4]) - sum(before[:4]))
        walls.append(wall)
        log(f"  repeat {repeat + 1}/{repeats}: {wall:.1f} s wall, {cpus[-1]:.1f} s CPU")
    return walls, cpus, result


def one_seed_path(result, log) -> tuple[float, float]:
    """Seconds to train seed 0 of every setting alone through the ordinary path, and the
    largest relative difference of its figures from the study's."""
    import numpy as np

    from tinygrad_lab import nn
    from tinygrad_lab.lab.stress.network import build_network
    from tinygrad_lab.lab.stress.part_a import make_data, train
    from tinygrad_lab.tensor import Tensor

    seconds, worst = 0.0, 0.0
    for setting in result.settings:
        config, figures = setting.setting.setting.config, setting.seeds[0]
        start = time.perf_counter()
        rng = np.random.RandomState(figures.seed)
        X, y = make_data(rng, config.n_samples)
        model = build_network(config, rng)
        with nn.GradientRecorder(model) as recorder:
            history, _ = train(
                model, Tensor(X), Tensor(y), config.learning_rate, len(figures.run1.loss_history)
            )
        seconds += time.perf_counter() - start
        last = recorder.at_step()
        linear = [label for label in last if label.type == "Linear"]
        first, final = (last[linear[k]]["weight_grad_norm"] for k in (0, -2))
        run1 = figures.run1
        pairs = [
            (history[-1], run1.loss_history[-1]),
            (first, run1.grad_norm_first),
            (final, run1.grad_norm_last),
        ]
        worst = max([worst] + [0.0 if a == b else abs(a - b) / abs(b) for a, b in pairs])
    log(f"  one seed a setting, alone: {seconds:.1f} s; largest relative difference {worst:.1e}")
    return seconds, worst


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    ensure_environment(args, argv)
    from run import machine_info

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    machine = machine_info(args)
    study = the_study(args.quick)
    trainings = len(study.settings()) * len(study.seeds)
    log(
        f"S1: depth study, {trainings:,} trainings of {study.epochs} epochs, {args.workers} workers"
    )
    walls, cpus, result = time_study(study, args.workers, args.repeats, log)
    report = {
        "machine": machine,
        "quick": args.quick,
        "workers": args.workers,
        "trainings": trainings,
        "epochs": study.epochs,
        "wall_seconds": walls,
        "cpu_seconds": cpus,
        "median_wall_seconds": statistics.median(walls),
        "target_seconds": TARGET_SECONDS,
        "met": statistics.median(walls) <= TARGET_SECONDS,
    }
    agrees = True
    if not args.no_baseline:
        seconds, worst = one_seed_path(result, log)
        estimate = seconds * len(study.seeds) / args.workers
        agrees = worst <= 1e-12
        report |= {"one_seed_path_seconds_estimate": estimate, "relative_difference": worst}
    print_report(report, machine)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, default=str)
    return 0 if agrees else 1


def print_report(report: dict, machine: dict) -> None:
    wall = report["median_wall_seconds"]
    print(
        f"\n{machine['cpu']} ({machine['cores']} cores), Python {machine['python']}, NumPy "
        f"{machine['numpy']} ({machine['blas'].get('kernel', '?')}), {report['workers']} "
        f"worker processes, {len(report['wall_seconds'])} repeat(s)"
        f"{' (quick)' if report['quick'] else ''}\n"
    )
    print(f"S1: {report['trainings']:,} trainings of {report['epochs']} epochs (the depth study)")
    cpu = statistics.median(report["cpu_seconds"])
    print(f"  seed axis:      {wall:.1f} s wall (median), {cpu:.1f} s CPU")
    if "one_seed_path_seconds_estimate" in report:
        estimate = report["one_seed_path_seconds_estimate"]
        print(
            f"  one at a time:  {estimate:.1f} s wall (estimated from seed 0 of every setting), "
            f"{estimate / wall:.1f}× the seed axis's; figures agree to "
            f"{report['relative_difference']:.1e}"
        )
    if report["quick"]:
        print(f"S1 (quick sizes; the target is the default study's): {wall:.1f} s wall")
        return
    mark = "met" if report["met"] else "MISSED"
    print(f"S1: default depth study ≤ {TARGET_SECONDS:g} s wall: {wall:.1f} s {mark}")


if __name__ == "__main__":
    sys.exit(main())
