"""Running a timing workload: fine interleaving, paired ratios, medians; and the printed tables."""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from .common import TimingWorkload


def run_timing(workload: TimingWorkload, repeats: int, log: Any) -> dict[str, Any]:
    """Per contender: median seconds per unit, and medians of paired ratios.

    Each repeat prepares every contender afresh, then advances them by ``chunk`` units in turn
    (the order rotating every round) until each has done ``units``. One round gives one time
    per contender, taken within a fraction of a second of the others', so a burst of load on
    the machine hits all of them alike; the ratio of two contenders is taken per round, then
    the median over all rounds of all repeats.
    """
    available = [c for c in workload.contenders if c.prepare is not None]
    names = [c.name for c in available]
    for contender in available:  # warm-up, untimed: first calls, caches, lazy imports
        contender.prepare().run(workload.chunk)
    # Objects alive now (torch's modules are a million) are never scanned again, so a garbage
    # collection costs a contender what its own objects cost, whatever else was imported.
    gc.collect()
    gc.freeze()
    rounds: list[dict[str, float]] = []
    results: dict[str, float] = {}
    for repeat in range(repeats):
        gc.collect()  # last repeat's models, untimed (cheap now)
        runners = {c.name: c.prepare() for c in available}
        for k in range(workload.units // workload.chunk):
            shift = (repeat + k) % len(names)
            times = {}
            for name in names[shift:] + names[:shift]:
                runner = runners[name]
                start = time.perf_counter()
                runner.run(workload.chunk)
                times[name] = (time.perf_counter() - start) / workload.chunk
            rounds.append(times)
        results = {name: float(runner.result()) for name, runner in runners.items()}
        log(f"  {workload.key} repeat {repeat + 1}/{repeats} done")
    return summarize(workload, rounds, results)


def paired_ratio(rounds: list[dict[str, float]], name: str, baseline: str) -> float | None:
    if not rounds or name not in rounds[0] or baseline not in rounds[0]:
        return None
    return statistics.median(r[name] / r[baseline] for r in rounds)


def summarize(
    workload: TimingWorkload, rounds: list[dict[str, float]], results: dict[str, float]
) -> dict[str, Any]:
    ref = workload.reference
    contenders = {}
    for c in workload.contenders:
        if c.prepare is None:
            contenders[c.name] = {"skipped": True, "note": c.note}
            continue
        value, expected = results[c.name], results.get(ref)
        rel = abs(value - expected) / max(abs(expected), 1e-300) if expected is not None else 0.0
        exact = c.name in workload.exact
        tolerance = workload.tolerance if c.tolerance is None else c.tolerance
        contenders[c.name] = {
            "skipped": False,
            "note": c.note,
            "seconds_per_unit": statistics.median(r[c.name] for r in rounds),
            "ratio_to_reference": paired_ratio(rounds, c.name, ref),
            "result": value,
            "relative_difference": rel,
            "agrees": value == expected if exact else rel <= tolerance,
            "agreement": "bit-identical" if exact else f"within {tolerance:g}",
        }
    targets = []
    for t in workload.targets:
        ratio = paired_ratio(rounds, t.contender, t.baseline)
        targets.append(
            {
                "workload": workload.key,
                "what": f"{t.contender} ≤ {t.max_ratio:g}× {t.baseline}",
                "ratio": ratio,
                "met": None if ratio is None else ratio <= t.max_ratio,
            }
        )
    return {
        "key": workload.key,
        "title": workload.title,
        "unit": workload.unit,
        "units": workload.units,
        "chunk": workload.chunk,
        "rounds": len(rounds),
        "reference": ref,
        "contenders": contenders,
        "targets": targets,
    }


# --------------------------------------------------------------------------------- tables
def _time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.2f} µs"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    return "\n".join(
        [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        + [line(row) for row in rows]
    )


def timing_table(summaries: list[dict[str, Any]]) -> str:
    rows = []
    for s in summaries:
        for name, c in s["contenders"].items():
            if c["skipped"]:
                rows.append([s["key"], name, "—", "—", c["note"]])
                continue
            check = ("agrees, " if c["agrees"] else "DISAGREES, ") + (
                c["agreement"]
                if c["relative_difference"] == 0
                else f"rel. diff {c['relative_difference']:.1e}"
            )
            rows.append(
                [
                    s["key"],
                    name,
                    f"{_time(c['seconds_per_unit'])}/{s['unit']}",
                    f"{c['ratio_to_reference']:.2f}×",
                    check,
                ]
            )
    return _table(
        ["workload", "contender", "median time", "× numpy (paired median)", "result"], rows
    )


def chain_table(key: str, results: dict[str, Any], notes: dict[str, str]) -> str:
    rows = []
    for name, r in results.items():
        for length, row in r["by_length"].items():
            rows.append(
                [
                    key,
                    name,
                    f"{length:,}",
                    _time(row["forward_per_node_s"]),
                    _time(row["backward_per_node_s"]),
                ]
            )
        if len(r["by_length"]) > 1:
            rows.append(
                [key, name, "growth", "", f"{r['backward_growth']:.2f}× the shortest chain"]
            )
    rows += [[key, name, "—", "—", note] for name, note in notes.items() if note]
    return _table(["workload", "contender", "nodes", "forward / node", "backward / node"], rows)


def memory_table(key: str, results: dict[str, Any]) -> str:
    rows = []
    for name, r in results.items():
        peaks = ", ".join(
            f"{steps:,}: {row['peak_bytes'] / 2**20:.2f}" for steps, row in r["by_steps"].items()
        )
        rows.append(
            [
                key,
                name,
                peaks,
                f"{r['peak_growth']:+.1%}",
                f"{r['retained_bytes_per_step']:.0f} B",
            ]
        )
    header = ["workload", "contender", "peak MiB at step", "peak growth", "retained / step"]
    return _table(header, rows)


def second_order_table(key: str, results: dict[str, Any]) -> str:
    rows = []
    for name, r in results.items():
        if r["skipped"]:
            rows.append([key, name, "—", "—", "—", r["note"]])
            continue
        t, d = r["seconds"], r["relative_difference"]
        agreement = "agrees" if r["agrees"] else "DISAGREES"
        rows.append(
            [
                key,
                name,
                _time(t["gradient"]),
                f"{_time(t['hvp'])} = {r['hvp_gradients']:.2f} gradients",
                f"{_time(t['hessian'])} = {r['hessian_gradients']:.0f} gradients",
                f"{agreement} (hvp {d['hvp']:.1e}, Hessian {d['hessian']:.1e})",
            ]
        )
    header = ["workload", "contender", "gradient", "hvp", "full Hessian", "vs tinygrad_lab"]
    return _table(header, rows)
