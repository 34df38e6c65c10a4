"""Findings that read right (issue 26, §3): every number in a sentence is computed, and the
wording is true for every roll, seed and setting, not only for the examples."""

import math

import pytest

from tinygrad_lab.lab.output.tables import factor
from tinygrad_lab.lab.rules import LabRun, lab_config
from tinygrad_lab.lab.stress.part_a import RunResult, StressResult
from tinygrad_lab.lab.stress.part_b import run_part_b
from tinygrad_lab.lab.stress.report import _answers
from tinygrad_lab.lab.studies.compute import SettingResult, Study, StudyResult
from tinygrad_lab.lab.studies.findings import finding
from tinygrad_lab.lab.studies.seed_axis import RunFigures, SeedFigures

ROLL = "102303346"


def _run(gri: float | None, first: float = 1.0) -> RunResult:
    last = first / gri if gri else 0.0
    reason = None if gri is not None else "both gradient norms are exactly 0"
    return RunResult(5, [1.0], {1: 1.0}, first, last, gri, reason, 0.5, {}, {})


def _q1(gri1: float | None, gri2: float | None) -> str:
    run = LabRun.from_roll(ROLL, seed=0, epochs=5)
    stress = StressResult(run, 1.0, _run(gri1), _run(gri2), _run(gri2))
    (line,) = [x for x in _answers(stress) if x.startswith("- Q1")]
    return line


@pytest.mark.parametrize(
    ("gri1", "gri2", "says"),
    [
        (2.474, 0.1597, "it fell by a factor of 15.5"),  # the example: 15.49×
        (0.1597, 2.474, "it rose by a factor of 15.5"),
        (1.0, 0.5, "it fell by a factor of 2"),
        (1.0, 3.0, "it rose by a factor of 3"),
        (3.0, 3.0, "it did not change"),
        (1.0, 1 / 4689.4, "it fell by a factor of 4,689"),
        (1.0, 1 / 1.0004, "it fell by a factor of 1.0004"),  # never "by a factor of 1"
    ],
)
def test_q1_gives_the_factor_of_a_fall_as_run_1_over_run_2(gri1, gri2, says):
    line = _q1(gri1, gri2)
    assert says + "." in line
    assert "factor of 0." not in line


def test_q1_cannot_compare_an_undefined_gri():
    assert "cannot be compared: a GRI is undefined" in _q1(1.0, None)


@pytest.mark.parametrize(
    ("ratio", "text"),
    [
        (15.49, "15.5"),
        (2.0, "2"),
        (4689.4, "4,689"),
        (4689.6, "4,690"),
        (99.96, "100"),
        (123.4, "123"),
        (999_999.4, "999,999"),
        (999_999.6, "1.00 × 10⁶"),
        (20_839_616_652_674, "2.08 × 10¹³"),
        (918_336_716, "9.18 × 10⁸"),
        (1.0004, "1.0004"),
        (math.inf, "infinity"),
    ],
)
def test_a_factor_is_rounded_not_floored_or_ceiled(ratio, text):
    assert factor(ratio) == text


# ------------------------------------------------------------------------------ studies
def _figures(first: float, last: float, r2: float = 0.5, dead: int = 0) -> RunFigures:
    gri = first / last if last else None
    reason = None if gri is not None else "the last hidden layer's weight gradient is exactly 0"
    return RunFigures(3, [1.0] * 5, first, last, gri, reason, r2, dead, None)


def _init_result(norms: dict[str, tuple[float, float]]) -> StudyResult:
    """An init study whose every seed has, after the break, the given (first, last) norms."""
    study = Study("init", lab_config(ROLL), seeds=(0, 1, 2), epochs=5, inits=tuple(norms))
    results = []
    for s in study.settings():
        first, last = norms[s.value("init")]
        run = _figures(first, last, r2=0.01)
        results.append(SettingResult(s, tuple(SeedFigures(k, run, run) for k in range(3))))
    return StudyResult(study, tuple(results))


def test_the_init_finding_gives_each_factor_rounded_never_more_than_it_is():
    text = finding(_init_result({"lab": (1e-4, 2e-4), "xavier_uniform": (0.4689, 0.5)}))
    ratios = (0.4689 / 1e-4, 0.5 / 2e-4)  # 4,689 and 2,500
    assert "at least 4,700" not in text
    assert f"{factor(ratios[0])} times" in text and f"{factor(ratios[1])} times" in text
    assert "4,689 times" in text and "2,500 times" in text


def test_the_init_finding_says_when_the_labs_init_gives_the_larger_gradient():
    text = finding(_init_result({"lab": (1.0, 1.0), "kaiming_normal": (1e-3, 1e-3)}))
    assert "alike" not in text and "1,000 times larger under the lab's init" in text
    alike = finding(_init_result({"lab": (1.0, 1.0), "kaiming_normal": (0.5, 2.0)}))
    assert "the inits attenuate the gradient alike (within a factor of 10)" in alike


def _depth_norms(norms: dict[str, list[tuple[float, float]]], depths=None) -> StudyResult:
    """A depth study whose seeds have the given (‖∇W_first‖, ‖∇W_last‖) at each depth (the
    seeds ×0.9, ×1, ×1.1: the median is the value given)."""
    depths = depths or tuple(range(1, len(next(iter(norms.values()))) + 1))
    study = Study(
        "depth",
        lab_config(ROLL),
        seeds=(0, 1, 2),
        epochs=5,
        depths=depths,
        activations=tuple(norms),
    )
    results = []
    for s in study.settings():
        first, last = norms[s.value("activation")][depths.index(s.value("depth"))]
        seeds = [_figures(first * k, last * k) for k in (0.9, 1.0, 1.1)]
        results.append(SettingResult(s, tuple(SeedFigures(k, r) for k, r in enumerate(seeds))))
    return StudyResult(study, tuple(results))


def test_the_depth_finding_shows_a_collapse_of_both_norms_that_gri_hides():
    from tinygrad_lab.lab.output.tables import fmt

    relu = [(0.226, 0.226), (0.05, 0.06), (1e-3, 2e-3), (8.2e-6, 9.1e-6)]
    tanh = [(0.3, 0.3), (0.2, 0.25), (0.1, 0.2), (0.09, 0.15)]  # no collapse
    text = finding(_depth_norms({"relu": relu, "tanh": tanh}))
    assert "never falls below 0.1 up to depth 4" in text
    assert (
        f"for relu ‖∇W_first‖ falls from {fmt(0.226, 3)} at depth 1 to {fmt(8.2e-6, 3)} at "
        f"depth 4 ({factor(0.226 / 8.2e-6)} times smaller) and ‖∇W_last‖ from {fmt(0.226, 3)} "
        f"to {fmt(9.1e-6, 3)} ({factor(0.226 / 9.1e-6)} times smaller)"
    ) in text
    gri = 8.2e-6 / 9.1e-6
    assert f"GRI, a ratio of the two, hides the collapse for relu (median GRI {fmt(gri, 3)}" in text
    assert "for tanh" not in text.split("collapse")[1]  # tanh's norms did not collapse
    calm = finding(_depth_norms({"tanh": tanh}))
    assert "collapse" not in calm


def test_a_collapse_where_gri_also_vanishes_is_not_said_to_be_hidden():
    relu = [(1.0, 1.0), (1e-5, 1e-2)]  # GRI 1e-3 at depth 2: vanishing, and it shows
    text = finding(_depth_norms({"relu": relu}))
    assert "falls below 0.1 (vanishing, by the lab's threshold) at depth 2 for relu" in text
    assert "‖∇W_first‖ falls from 1 at depth 1 to 1e-05 at depth 2" in text
    assert "hides" not in text


def test_at_depth_1_gri_is_1_by_construction_and_the_finding_says_so():
    text = finding(_depth_norms({"relu": [(0.3, 0.3), (0.1, 0.2)]}))
    assert (
        "At depth 1 the first weight matrix is also the one feeding the last hidden layer" in text
    )
    assert "GRI is 1 by construction" in text
    deeper = finding(_depth_norms({"relu": [(0.3, 0.3), (0.1, 0.2)]}, depths=(2, 3)))
    assert "by construction" not in deeper


def test_at_depth_1_the_trained_gri_is_exactly_1():
    study = Study("depth", lab_config(ROLL), seeds=(0, 1), epochs=5, depths=(1,))
    from tinygrad_lab.lab.studies.compute import run_study

    for setting in run_study(study, progress=False).settings:
        assert {seed.run1.gri for seed in setting.seeds} == {1.0}


def _lr_result(seeds_by_rate: dict[float, list[str]]) -> StudyResult:
    """An lr study whose seeds at each rate are "ok", "dead" (a dead layer) or "diverged"."""
    rates = tuple(seeds_by_rate)
    study = Study("lr", lab_config(ROLL), seeds=(0, 1, 2), epochs=5, lrs=rates)
    diverged = RunFigures(3, [1.0, 1.0], math.nan, math.nan, None, "diverged", None, None, 3)
    kinds = {"ok": _figures(0.1, 0.1), "dead": _figures(0.1, 0.0, r2=-0.1, dead=1)}
    kinds["diverged"] = diverged
    results = []
    for s in study.settings():
        runs = [kinds[kind] for kind in seeds_by_rate[s.value("lr")]]
        results.append(SettingResult(s, tuple(SeedFigures(k, r) for k, r in enumerate(runs))))
    return StudyResult(study, tuple(results))


def test_the_lr_finding_tells_divergence_from_dead_layers_rate_by_rate():
    text = finding(
        _lr_result(
            {
                0.01: ["ok", "ok", "ok"],
                0.1: ["ok", "dead", "ok"],
                0.5: ["diverged", "dead", "dead"],
                1.0: ["dead", "dead", "dead"],  # none diverged at the largest rate
            }
        )
    )
    assert "from 0.5 some seeds diverge" not in text
    assert "training diverged only at lr 0.5 (1 of 3 seeds);" in text
    assert (
        "a dead layer (every unit 0 for every example) ended training without divergence at "
        "lr 0.1 (1 of 3 seeds), 0.5 (2 of 3 seeds) and 1 (3 of 3 seeds)"
    ) in text
    assert "overshoots" not in text


def test_the_lr_finding_says_from_which_rate_on_half_of_the_seeds_diverge():
    text = finding(
        _lr_result(
            {
                0.01: ["ok", "ok", "ok"],
                0.1: ["diverged", "diverged", "ok"],
                0.5: ["ok", "ok", "diverged"],
                1.0: ["diverged", "diverged", "diverged"],
            }
        )
    )
    assert "only at lr 0.1 (2 of 3 seeds), 0.5 (1 of 3 seeds) and 1 (3 of 3 seeds);" in text
    assert "a larger rate overshoots: from 1 on, at least half of the seeds diverge" in text
    assert (
        "from 0.1 on" not in text
        and "dead layer (every unit 0 for every example) ended" not in text
    )
    calm = finding(_lr_result({0.01: ["ok"] * 3, 0.1: ["ok"] * 3}))
    assert "no rate up to 0.1 made a seed diverge" in calm


def test_the_lr_finding_reads_the_rates_in_order_whatever_order_they_were_given():
    text = finding(_lr_result({1.0: ["diverged"] * 3, 0.01: ["ok"] * 3, 0.1: ["diverged"] * 3}))
    assert "diverged only at lr 0.1 (3 of 3 seeds) and 1 (3 of 3 seeds);" in text
    assert "from 0.1 on, at least half of the seeds diverge" in text


# ------------------------------------------------------------------------------ plots
def _drawn(result: StudyResult) -> dict[str, object]:
    """Each of the study's plots, drawn (not saved), by name."""
    from tinygrad_lab.lab import study_plots
    from tinygrad_lab.lab.output.plotting import pyplot

    plt = pyplot()
    kinds = {"depth": study_plots._depth_plots, "lr": study_plots._lr_plots}
    return {name: draw(plt) for name, draw in kinds[result.study.kind](result)}


def _titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_the_depth_plot_shows_both_norms_beside_gri():
    relu = [(0.226, 0.226), (1e-3, 2e-3), (8.2e-6, 9.1e-6)]
    fig = _drawn(_depth_norms({"relu": relu}))["gri.png"]
    titles = " ".join(_titles(fig))
    assert "GRI" in titles and "‖∇W_first‖" in titles and "‖∇W_last‖" in titles
    norms = [ax for ax in fig.axes if "‖∇W_first‖" in ax.get_title()][0]
    assert norms.get_yscale() == "log"
    (line,) = [x for x in norms.get_lines() if x.get_label() == "relu"]
    assert list(line.get_ydata()) == [0.226, 1e-3, 8.2e-6]  # the medians


def test_the_lr_plot_shows_dead_layers_and_the_rolls_own_rate():
    result = _lr_result({0.001: ["ok"] * 3, 0.1: ["ok", "dead", "ok"], 1.0: ["dead"] * 3})
    fig = _drawn(result)["lr.png"]
    assert any("dead layer" in title for title in _titles(fig))
    own = lab_config(ROLL).learning_rate
    for ax in fig.axes:
        if not ax.get_visible() or not ax.has_data():
            continue
        marked = [x for x in ax.get_lines() if list(x.get_xdata()) == [own, own]]
        assert marked, ax.get_title()
    labels = [x.get_label() for ax in fig.axes for x in ax.get_lines()]
    assert any(f"roll's own rate {own:g}" in label for label in labels)


# ------------------------------------------------------------------------------ rosters
def test_a_roster_report_says_another_seed_gives_other_figures(tmp_path, capsys):
    import csv

    from tinygrad_lab.lab.cli import main

    roster = tmp_path / "class.csv"
    roster.write_text(f"roll\n{ROLL}\n102303016\n")  # 016: (27 - 3 + 0)/2 is not whole
    out = tmp_path / "class"
    argv = ["lab", "--rolls", str(roster), "--epochs", "3", "--out", str(out), "--no-plots"]
    assert main([*argv, "--no-progress", "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "the figures of seed 0; another seed (a student's own) gives other figures" in printed
    report = (out / ROLL / "report.md").read_text()
    assert "with seed 0 and 3 epochs" in report
    assert "another seed gives other figures" in report
    assert "the seed a student's notebook drew" in report
    with open(out / "class_summary.csv") as handle:
        rows = {row["roll"]: row for row in csv.DictReader(handle)}
    bad = rows["102303016"]
    assert bad["part_b.output_size"] == ""
    expected = run_part_b(lab_config("102303016")).output_size_error
    assert expected and bad["part_b.output_size_error"] == expected
    assert rows[ROLL]["part_b.output_size"] == "30" and rows[ROLL]["part_b.output_size_error"] == ""


def test_a_share_of_the_seeds_is_never_rounded_to_all_or_none():
    from tinygrad_lab.lab.studies.report import cell

    seeds = ["dead"] * 199 + ["ok"]
    study = Study("lr", lab_config(ROLL), seeds=tuple(range(200)), epochs=5, lrs=(0.1,))
    (setting,) = study.settings()
    kinds = {"ok": _figures(0.1, 0.1), "dead": _figures(0.1, 0.0, r2=-0.1, dead=1)}
    runs = tuple(SeedFigures(k, kinds[kind]) for k, kind in enumerate(seeds))
    result = StudyResult(study, (SettingResult(setting, runs),))
    assert "in 99.5% of the seeds" in finding(result)
    assert cell(result.settings[0], result.metric("dead_layer")) == "99.5%"


def test_a_norm_that_collapses_to_0_is_said_to_be_no_gradient():
    text = finding(_depth_norms({"relu": [(0.5, 0.5), (0.0, 1e-4)]}))
    assert "‖∇W_first‖ falls from 0.5 at depth 1 to 0 at depth 2 (no gradient at all)" in text
    assert "infinity" not in text and "(5,000 times smaller)" in text
