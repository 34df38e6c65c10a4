"""A study's finding: what its figures say, in sentences, computed from the medians and shares
(`finding`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lab.lab.output.tables import factor, fmt, percent
from tinygrad_lab.lab.stress.analysis import EXPLODING_GRI, NO_LEARNING_R2, VANISHING_GRI
from tinygrad_lab.lab.studies.compute import (
    Metric,
    SettingResult,
    StudyResult,
    fmt_value,
)


def median(result: SettingResult, metric: Metric) -> float | None:
    return result.distribution(metric).median


def _listing(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c`` (``a and b, and c`` when an item has an "and")."""
    if len(items) == 1:
        return items[0]
    last = ", and " if any(" and " in item for item in items) else " and "
    return ", ".join(items[:-1]) + last + items[-1]


def _below(value: float | None, level: float) -> bool:
    return value is not None and value < level


def _first(results: list[SettingResult], test: Callable[[SettingResult], bool]) -> Any:
    """The varied value of the first setting passing ``test``, or None."""
    return next((r.setting.parameters[1][1] for r in results if test(r)), None)


def _gri_sentence(result: StudyResult) -> str:
    """Q1: at which depth the median GRI crosses the lab's thresholds, per activation."""
    gri, deepest = result.metric("gri"), max(result.study.depths)
    falls: dict[int, list[str]] = {}
    never, exploding = [], []
    for activation, results in result.by_activation().items():
        depth = _first(results, lambda r: _below(median(r, gri), VANISHING_GRI))
        (
            never.append(activation)
            if depth is None
            else falls.setdefault(depth, []).append(activation)
        )
        if _first(results, lambda r: (median(r, gri) or 0.0) > EXPLODING_GRI) is not None:
            exploding.append(activation)
    text = f"Median GRI falls below {VANISHING_GRI} (vanishing, by the lab's threshold) "
    if falls:
        text += "at " + _listing([f"depth {d} for {_listing(a)}" for d, a in sorted(falls.items())])
        text += f", and never for {_listing(never)} up to depth {deepest}" if never else ""
    else:
        text = f"Median GRI never falls below {VANISHING_GRI} up to depth {deepest}"
    if exploding:
        text += f"; it rises above {EXPLODING_GRI} (exploding) for {_listing(exploding)}"
    return text + "."


COLLAPSE = 100  # both gradient norms this many times smaller at the deepest depth: a collapse


def _depth_one_sentence(result: StudyResult) -> str:
    """At depth 1 GRI compares a matrix with itself: say so where depth 1 was studied."""
    if 1 not in result.study.depths:
        return ""
    return (
        "At depth 1 the first weight matrix is also the one feeding the last hidden layer "
        "(`grads_W[0]` is `grads_W[-2]`), so GRI is 1 by construction there."
    )


def _norm_fall(shallow: SettingResult, deep: SettingResult, metric: Metric) -> float | None:
    """How many times smaller the median norm is at the deep setting (None: undefined)."""
    high, low = median(shallow, metric), median(deep, metric)
    return None if high is None or low is None else _ratio(high, low)


def _smaller(fall: float) -> str:
    """``27,561 times smaller``; a norm that fell to 0 is "no gradient at all"."""
    return "no gradient at all" if math.isinf(fall) else f"{factor(fall)} times smaller"


def _collapse_sentence(result: StudyResult) -> str:
    """Both gradient norms, shallowest against deepest depth, per activation, where both fall
    by `COLLAPSE` times or more; and where GRI, their ratio, reads as neither vanishing nor
    exploding there, so hides it."""
    metrics = [result.metric("grad_norm_first"), result.metric("grad_norm_last")]
    gri, parts, hidden = result.metric("gri"), [], []
    for activation, results in result.by_activation().items():
        shallow = min(results, key=lambda r: r.setting.value("depth"))
        deep = max(results, key=lambda r: r.setting.value("depth"))
        falls = [_norm_fall(shallow, deep, m) for m in metrics]
        if shallow is deep or not all(f is not None and f >= COLLAPSE for f in falls):
            continue
        values = [[fmt(median(r, m), 3) for r in (shallow, deep)] for m in metrics]
        depths = [r.setting.value("depth") for r in (shallow, deep)]
        parts.append(
            f"for {activation} ‖∇W_first‖ falls from {values[0][0]} at depth {depths[0]} to "
            f"{values[0][1]} at depth {depths[1]} ({_smaller(falls[0])}) and "
            f"‖∇W_last‖ from {values[1][0]} to {values[1][1]} ({_smaller(falls[1])})"
        )
        ratio = median(deep, gri)
        if ratio is not None and VANISHING_GRI <= ratio <= EXPLODING_GRI:
            hidden.append(f"{activation} (median GRI {fmt(ratio, 3)} at depth {depths[1]})")
    if not parts:
        return ""
    text = f"Both gradient norms collapse with depth ({COLLAPSE} times or more): " + _listing(parts)
    if hidden:
        text += "; GRI, a ratio of the two, hides the collapse for " + _listing(hidden)
    return text + "."


def _depth_helps_sentence(result: StudyResult) -> str:
    """Q3/Q5: the depth of the lowest median final loss, against the deepest's, and from
    which depth the median network predicts little more than the mean."""
    loss, r2, deepest = result.metric("final_loss"), result.metric("r2"), max(result.study.depths)
    parts, mean_like = [], []
    for activation, results in result.by_activation().items():
        finished = [r for r in results if median(r, loss) is not None]
        if not finished:
            continue
        best, last = min(finished, key=lambda r: median(r, loss)), results[-1]
        parts.append(
            f"depth {best.setting.value('depth')} for {activation} ({fmt(median(best, loss), 3)}, "
            f"R² {fmt(median(best, r2), 3)}; at depth {deepest}: {fmt(median(last, loss), 3)}, "
            f"R² {fmt(median(last, r2), 3)})"
        )
        little = _first(results, lambda r: _below(median(r, r2), NO_LEARNING_R2))
        if little is not None:
            mean_like.append(f"from depth {little} for {activation}")
    if not parts:
        return "Every seed diverged: no depth can be said to help."
    text = "The lowest median final loss is at " + _listing(parts) + "."
    if mean_like:
        text += (
            f" The median network predicts little more than the mean (R² < {NO_LEARNING_R2}) "
            + _listing(mean_like)
            + "."
        )
    return text


def _shares_sentence(result: StudyResult, prefix: str = "") -> str:
    """Where a dead layer was commonest, and where training diverged most."""
    dead, diverged = result.metric(f"{prefix}dead_layer"), result.metric(f"{prefix}diverged")
    worst = max(result.settings, key=lambda r: r.share(dead) or 0.0)
    text = (
        f"A dead layer (every unit 0 for every example) is commonest at {_where(worst)}, in "
        f"{share_percent(worst, dead)} of the seeds"
        if worst.share(dead)
        else "No seed ends with a dead layer"
    )
    most = max(result.settings, key=lambda r: r.share(diverged) or 0.0)
    if most.share(diverged):
        count = sum(bool(r.share(diverged)) for r in result.settings)
        return text + (
            f"; training diverged in {count} of the {len(result.settings)} settings, most at "
            f"{_where(most)} ({share_percent(most, diverged)} of the seeds)."
        )
    return text + "; no seed diverged."


def share_percent(result: SettingResult, metric: Metric) -> str:
    """The share of the seeds defining a 0/1 figure where it is 1, as ``32%``: never 0% or
    100% unless none or all (`output.tables.percent`)."""
    defined = [v for v in result.values(metric) if v is not None]
    return percent(int(sum(defined)), len(defined)).replace(" %", "%")


def _where(result: SettingResult) -> str:
    return ", ".join(f"{name} {fmt_value(value)}" for name, value in result.setting.parameters)


def _spread(results: list[SettingResult], metric: Metric) -> str:
    """``a–b``: the range of the settings' medians."""
    values = [median(r, metric) for r in results if median(r, metric) is not None]
    if not values:
        return "undefined"
    low, high = min(values), max(values)
    return fmt(low, 3) if low == high else f"{fmt(low, 3)}–{fmt(high, 3)}"


def _init_sentence(result: StudyResult, activation: str, results: list[SettingResult]) -> str:
    """GRI under the lab's init against the fan-scaled ones, before and after the break;
    then whether the gradients themselves, and the learning, differ."""
    config = result.study.config
    lab = next((r for r in results if r.setting.value("init") == "lab"), None)
    scaled = [r for r in results if r is not lab]
    if lab is None or not scaled:
        return f"With {activation}, the study needs the lab's init and another to compare."
    after = config.hidden_layers + config.added_layers
    gri1, gri2 = result.metric("run1.gri"), result.metric("run2.gri")
    text = (
        f"With {activation}, median GRI at the roll's depth ({config.hidden_layers} hidden "
        f"layers) is {fmt(median(lab, gri1), 3)} under the lab's U(−r, r) and "
        f"{_spread(scaled, gri1)} under the fan-scaled inits; after the break ({after} hidden "
        f"layers) {fmt(median(lab, gri2), 3)} against {_spread(scaled, gri2)}. "
    )
    return text + _init_verdict(result, lab, scaled)


def _ratio(theirs: float, ours: float) -> float:
    """``theirs / ours``, infinite when only ours is 0, 1 when both are."""
    if ours:
        return theirs / ours
    return math.inf if theirs else 1.0


def _init_verdict(result: StudyResult, lab: SettingResult, scaled: list[SettingResult]) -> str:
    """Whether the lab's init is what attenuates the gradient: both gradient norms after the
    break, against the fan-scaled inits', and what the network learned."""
    norms = [result.metric(f"run2.grad_norm_{end}") for end in ("first", "last")]
    gri, r2 = result.metric("run2.gri"), result.metric("run2.r2")
    bounds = []  # per norm: the fan-scaled inits' (smallest, largest) median over the lab's
    for norm in norms:
        theirs = [median(r, norm) for r in scaled if median(r, norm) is not None]
        if median(lab, norm) is None or not theirs:
            return "The gradient norms are undefined for too many seeds to compare the inits."
        ours = median(lab, norm)
        bounds.append([_ratio(v, ours) for v in (min(theirs), max(theirs))])
    text = (
        f"After the break the first layer's gradient is {fmt(median(lab, norms[0]), 3)} under "
        f"the lab's init against {_spread(scaled, norms[0])}, the last hidden layer's "
        f"{fmt(median(lab, norms[1]), 3)} against {_spread(scaled, norms[1])}, and R² "
        f"{fmt(median(lab, r2), 3)} against {_spread(scaled, r2)}"
    )
    if all(low >= 10 for low, _ in bounds):
        text += (
            ": the attenuation is the init's doing, the first layer's gradient "
            f"{factor(bounds[0][0])} times and the last hidden layer's {factor(bounds[1][0])} "
            "times smaller under the lab's init than under any fan-scaled init"
        )
        text += "" if _below(median(lab, gri), VANISHING_GRI) else " (GRI, a ratio, hides it)"
    elif all(0 < high <= 0.1 for _, high in bounds):
        text += (
            f": the first layer's gradient is {factor(1 / bounds[0][1])} times and the last "
            f"hidden layer's {factor(1 / bounds[1][1])} times larger under the lab's init than "
            "under any fan-scaled init"
        )
    elif all(low >= 0.1 and high <= 10 for low, high in bounds):
        return text + ": the inits attenuate the gradient alike (within a factor of 10)."
    else:
        text += ": the inits differ by more than a factor of 10, but not both gradients alike"
    if _below(median(lab, r2), NO_LEARNING_R2):
        text += ", where the network predicts little more than the mean"
    return text + "."


def _lr_sentence(result: StudyResult, activation: str, results: list[SettingResult]) -> str:
    """The best rate, against the roll's own; then, rate by rate, divergence and dead layers."""
    loss, diverged, r2 = (result.metric(n) for n in ("final_loss", "diverged", "r2"))
    best = min(results, key=lambda r: _median_worst_diverged(r, loss))
    if _median_worst_diverged(best, loss) == float("inf"):
        return f"With {activation}, at least half of the seeds diverge at every rate studied."
    text = (
        f"With {activation}, the best learning rate is {fmt_value(best.setting.value('lr'))} "
        f"(median final loss {fmt(_median_worst_diverged(best, loss), 3)}, R² "
        f"{fmt(median(best, r2), 3)}; the roll's own rate is "
        f"{fmt(result.study.config.learning_rate, 3)})"
    )
    if _below(median(best, r2), NO_LEARNING_R2):
        text += ", where the median network still predicts little more than the mean"
    return text + "; " + _lr_failures(result, results) + "."


def _lr_failures(result: StudyResult, results: list[SettingResult]) -> str:
    """Rate by rate, where training diverged and where it ended with a dead layer instead;
    from which rate on at least half of the seeds diverge, when every larger rate does too."""
    diverged, dead = result.metric("diverged"), result.metric("dead_layer")
    results = sorted(results, key=lambda r: r.setting.value("lr"))

    def count(r: SettingResult, dead_only: bool) -> str:
        """``2 of 3 seeds``: those that diverged, or that ended with a dead layer instead."""
        flags = [(dead.value(s) == 1, diverged.value(s) == 1) for s in r.seeds]
        hits = sum(d and not v if dead_only else v for d, v in flags)
        return f"{hits} of {len(r.seeds)} seeds"

    rates = [(r, fmt_value(r.setting.value("lr"))) for r in results]
    failed = [f"{lr} ({count(r, False)})" for r, lr in rates if r.share(diverged)]
    if failed:
        only = "only " if len(failed) < len(rates) else ""
        text = f"training diverged {only}at lr {_listing(failed)}"
    else:
        text = f"no rate up to {fmt_value(max(result.study.lrs))} made a seed diverge"
    half = [(r.share(diverged) or 0) >= 0.5 for r in results]
    start = next((k for k in range(len(half)) if all(half[k:])), None)
    if start is not None:
        text += (
            f"; a larger rate overshoots: from {rates[start][1]} on, at least half of the "
            "seeds diverge"
        )
    deaths = [f"{lr} ({count(r, True)})" for r, lr in rates if not count(r, True).startswith("0 ")]
    if deaths:
        text += (
            "; a dead layer (every unit 0 for every example) ended training without "
            f"divergence at lr {_listing(deaths)}"
        )
    return text


def _median_worst_diverged(result: SettingResult, loss: Metric) -> float:
    """The median final loss, a seed that diverged counting as worse than any that finished
    (so a rate at which half of the seeds diverge ranks last)."""
    return float(np.median([math.inf if v is None else v for v in result.values(loss)]))


def finding(result: StudyResult) -> str:
    """One paragraph, every number in it read off the study's figures."""
    kind = result.study.kind
    if kind == "depth":
        parts = [_gri_sentence(result), _depth_one_sentence(result)]
        parts += [_collapse_sentence(result), _depth_helps_sentence(result)]
        parts = [p for p in parts if p] + [_shares_sentence(result)]
    elif kind == "init":
        groups = result.by_activation().items()
        parts = [_init_sentence(result, a, rs) for a, rs in groups]
        parts.append(_shares_sentence(result, "run2."))
    else:
        parts = [_lr_sentence(result, a, rs) for a, rs in result.by_activation().items()]
        parts.append(_shares_sentence(result))
    return " ".join(parts)
