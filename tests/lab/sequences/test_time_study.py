"""The time study: the same seed gives the same figures bit for bit, in one process or a pool;
its CSV and JSON are its typed figures; the finding is computed from the medians; `study time`
writes its files, and its bad options are one line, exit 2."""

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.sequences.data import adding_problem, baseline_mse
from tinygrad_lab.lab.sequences.report import finding, to_json, write_time_study
from tinygrad_lab.lab.sequences.study import (
    LEARNED_BELOW,
    TIME_METRICS,
    SequenceRun,
    SettingResult,
    TimeResult,
    TimeStudy,
    _generators,
    time_study,
)
from tinygrad_lab.lab.studies.report import csv_text

TINY = {"cells": ("rnn_tanh", "gru"), "lengths": (3, 6), "seeds": (0, 1, 2), "steps": 4}


@pytest.fixture(scope="module")
def tiny():
    return time_study(**TINY, test_sequences=32, workers=1, progress=False)


def test_the_same_seeds_give_the_same_figures_bit_for_bit_in_one_process_or_a_pool(tiny):
    pooled = time_study(**TINY, test_sequences=32, workers=2, progress=False)
    with ThreadPoolExecutor(2) as pool:
        threads = time_study(**TINY, test_sequences=32, executor=pool, progress=False)
    assert to_json(tiny) == to_json(pooled) == to_json(threads)  # floats compared exactly
    assert [run.seed for run in tiny.settings[0].seeds] == [0, 1, 2]
    other = time_study(**{**TINY, "seeds": (3,)}, test_sequences=32, workers=1, progress=False)
    assert other.settings[0].seeds[0].loss_history != tiny.settings[0].seeds[0].loss_history


def test_a_seed_gives_every_cell_the_same_test_set_and_its_baseline(tiny):
    for setting in tiny.settings:
        for run in setting.seeds:
            test = adding_problem(_generators(run.seed)[2], 32, setting.setting.value("length"))
            assert run.baseline_mse == baseline_mse(test)
            assert len(run.grad_norms_init) == len(run.grad_norms) == test.length
            assert len(run.loss_history) == TINY["steps"]


def test_the_csv_and_the_json_hold_the_typed_figures(tiny):
    rows = list(csv.reader(io.StringIO(csv_text(tiny))))
    assert rows[0] == ["study", "setting", "seed", "metric", "value"]
    assert len(rows) - 1 == 4 * 3 * len(TIME_METRICS)  # settings × seeds × figures
    runs = {(s.setting.label, run.seed): run for s in tiny.settings for run in s.seeds}
    for study, label, seed, name, value in rows[1:]:
        expected = tiny.metric(name).value(runs[label, int(seed)])
        assert study == "time"
        assert (value == "") if expected is None else float(value) == expected
    document = json.loads(json.dumps(to_json(tiny)))
    assert document["varied"] == {"cell": ["rnn_tanh", "gru"], "length": [3, 6]}
    for setting, saved in zip(tiny.settings, document["settings"], strict=True):
        assert saved["parameters"] == dict(setting.setting.parameters)
        for run, seed in zip(setting.seeds, saved["seeds"], strict=True):
            assert seed["ratio"] == run.ratio and seed["ratio_init"] == run.ratio_init
            assert seed["test_mse"] == run.test_mse and seed["learned"] == float(run.learned)
            assert seed["grad_norms"] == list(run.grad_norms)
            assert seed["loss_history"] == list(run.loss_history)
        ratios = [run.ratio for run in setting.seeds]
        q1, median, q3 = np.percentile(ratios, [25, 50, 75])
        summary = saved["summary"]["ratio"]
        assert (summary["q1"], summary["median"], summary["q3"]) == (q1, median, q3)
        learned = saved["summary"]["learned"]
        assert learned["share"] == np.mean([run.learned for run in setting.seeds])
    assert document["finding"] == finding(tiny)


# ------------------------------------------------------------------------------ the finding
def _run(seed, ratio, loss_ratio, length, diverged=False):
    """A run whose ratio (after training and before) and test MSE / baseline are given."""
    norms = tuple([ratio] + [1.0] * (length - 1))
    return SequenceRun(
        seed=seed,
        loss_history=(0.2,),
        diverged_at=3 if diverged else None,
        test_mse=None if diverged else loss_ratio * 0.16,
        baseline_mse=0.16,
        grad_norms_init=norms,
        grad_norms=None if diverged else norms,
    )


def _result(figures, diverged=()):
    """A time study whose cell's seeds have, at each length, the (ratio, loss ratio) given."""
    lengths = tuple(sorted({n for by_length in figures.values() for n in by_length}))
    study = TimeStudy(cells=tuple(figures), lengths=lengths, seeds=(0, 1, 2), steps=3)
    settings = []
    for s in study.settings():
        ratio, loss = figures[s.value("cell")][s.value("length")]
        gone = (s.value("cell"), s.value("length")) in diverged
        runs = [
            _run(k, ratio * (0.9 + 0.1 * k), loss, s.value("length"), gone and k == 0)
            for k in range(3)
        ]
        settings.append(SettingResult(s, tuple(runs)))
    return TimeResult(study, tuple(settings))


def test_the_finding_is_computed_from_the_medians():
    result = _result(
        {
            "rnn_tanh": {5: (0.5, 0.1), 10: (0.05, 0.9), 20: (1e-5, 1.0)},
            "lstm": {5: (0.8, 0.05), 10: (0.3, 0.1), 20: (0.02, 0.6)},
            "gru": {5: (0.9, 0.01), 10: (0.6, 0.02), 20: (0.4, 0.03)},
        }
    )
    text = finding(result)
    assert (
        "falls below 0.1 (vanishing, by the lab's threshold) after training at length 10 for "
        "rnn_tanh and length 20 for lstm, and never for gru up to length 20" in text
    )
    assert (
        "the median seed learns the adding problem up to length 5 for rnn_tanh, stopping at 10; "
        "up to length 10 for lstm, stopping at 20; and at every length up to 20 for gru." in text
    )
    assert "At length 20 the median test MSE over the baseline's is 1 for rnn_tanh" in text
    assert "No run diverged." in text


def test_learned_means_a_test_mse_under_the_constant_fraction_of_the_baseline():
    below, at = LEARNED_BELOW * (1 - 1e-9), LEARNED_BELOW
    assert _run(0, 1.0, below, 3).learned and not _run(0, 1.0, at, 3).learned
    result = _result({"gru": {4: (1.0, below), 8: (1.0, at)}})
    assert "up to length 4 for gru, stopping at 8" in finding(result)


def test_a_diverged_run_did_not_learn_and_is_counted():
    result = _result({"rnn_relu": {4: (1.0, 0.1), 8: (1.0, 0.1)}}, diverged={("rnn_relu", 8)})
    (four, eight) = result.settings
    assert not eight.seeds[0].learned and eight.seeds[0].ratio is None
    assert "at every length up to 8 for rnn_relu" in finding(result)  # 2 of 3 seeds learned
    assert "Training diverged in 1 of the 2 settings, most at cell rnn_relu, length 8" in finding(
        result
    )
    summary = to_json(result)["settings"][1]["summary"]
    assert summary["diverged"]["share"] == pytest.approx(1 / 3)
    assert summary["ratio"]["undefined"] == 1


def test_exploding_ratios_are_named():
    result = _result({"rnn_relu": {4: (3.0, 0.9), 8: (40.0, 1.0)}})
    assert "rises above 10.0 (exploding) after training for rnn_relu" in finding(result)


# ------------------------------------------------------------------------------ the command
def test_the_command_writes_the_report_csv_json_and_plots(tmp_path, capsys):
    out = tmp_path / "time"
    argv = ["study", "time", "--seeds", "0-1", "--lengths", "3,5", "--cells", "lstm,rnn_relu"]
    assert main([*argv, "--steps", "3", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == ["loss.png", "ratio.png", "steps.png", "study.csv", "study.json", "study.md"]
    document = json.loads((out / "study.json").read_text())
    assert document["study"] == "time" and len(document["settings"]) == 4
    assert document["seeds"] == [0, 1] and document["training"]["steps"] == 3
    report = (out / "study.md").read_text()
    assert document["finding"] in report and document["finding"] in printed
    assert "![ratio.png](ratio.png)" in report
    assert (out / "ratio.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = TimeStudy(("lstm", "rnn_relu"), (3, 5), (0, 1), 3)
    from tinygrad_lab.lab.sequences.study import run_time_study

    assert to_json(run_time_study(again, workers=1, progress=False)) == document


def test_the_json_option_prints_the_study(capsys):
    argv = ["study", "time", "--seeds", "4", "--lengths", "2", "--cells", "gru", "--steps", "2"]
    assert main([*argv, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["settings"][0]["setting"] == "cell=gru;length=2"


def test_an_interrupted_write_leaves_no_file_that_looks_complete(tmp_path, monkeypatch, tiny):
    from tinygrad_lab.lab.sequences import plots

    def plots_then_fail(result, files, out):
        files.write(out / "ratio.png", b"\x89PNG half a plot")
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "plot_time_study", plots_then_fail)
    with pytest.raises(KeyboardInterrupt):
        write_time_study(tiny, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--lengths", "5,1"], "argument --lengths: expected sequence lengths"),
        (["--lengths", "5,5"], "argument --lengths: expected sequence lengths"),
        (["--lengths", "ten"], "argument --lengths: expected sequence lengths"),
        (["--cells", "lstm,elman"], "argument --cells: unknown cell 'elman'"),
        (["--cells", "gru,gru"], "each once"),
        (["--steps", "0"], "argument --steps: expected steps (a whole number >= 1)"),
        (["--seeds", "4-1"], "argument --seeds: bad seed range '4-1': it is reversed"),
        (["--activations", "relu"], "argument --activations: the time study does not take it"),
        (["--epochs", "5"], "argument --epochs: the time study does not take it"),
        (["--depths", "3"], "argument --depths: only the depth study takes it, not the time"),
        (["--workers", "0"], "argument --workers"),
        (["--roll", "102303347"], "argument --roll: the time study has no roll number"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    code = main(["study", "time", *argv, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert message in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert not out.exists()


@pytest.mark.parametrize("option", [["--lengths", "5"], ["--cells", "gru"], ["--steps", "3"]])
def test_the_other_kinds_reject_the_time_studys_options(capsys, option):
    assert main(["study", "depth", *option]) == 2
    assert "only the time study takes it, not the depth study" in capsys.readouterr().err


def test_the_lengths_are_an_axis_in_order_whatever_order_they_are_given_in():
    study = TimeStudy(cells=("gru",), lengths=(16, 4, 8))
    assert study.lengths == (4, 8, 16)
    assert [s.value("length") for s in study.settings()] == [4, 8, 16]


def test_the_api_names_what_it_cannot_study():
    for kwargs, message in [
        ({"cells": ("elman",)}, "bad cell 'elman'"),
        ({"lengths": (1,)}, "bad length 1"),
        ({"lengths": ()}, "needs at least one length"),
        ({"seeds": (-1,)}, "bad seed -1"),
        ({"steps": 0}, "bad steps 0"),
        ({"learning_rate": 0.0}, "bad learning rate 0.0"),
        ({"lengths": (4, 4)}, r"bad lengths \(4, 4\) \(each once\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            TimeStudy(**kwargs)


def test_the_notebooks_time_study_cell_shows_the_finding_and_the_ratio_plot(capsys):
    """experiments/lab6.ipynb's section, run here on its own (the whole notebook runs in
    tests/lab/test_notebook.py)."""
    import nbformat
    from matplotlib import pyplot as plt

    from tinygrad_lab.lab.output.plotting import pyplot

    notebook = Path(__file__).resolve().parents[3] / "experiments" / "lab6.ipynb"
    cells = nbformat.read(notebook, as_version=4).cells
    (source,) = [c.source for c in cells if c.cell_type == "code" and "time_study(" in c.source]
    pyplot()  # files only: no display
    shown = []
    namespace = {"plt": plt}
    plt.show, original = lambda: shown.append(plt.gcf()), plt.show
    try:
        exec(compile(source, "lab6.ipynb", "exec"), namespace)
    finally:
        plt.show = original
    result = namespace["time_result"]
    assert capsys.readouterr().out.strip() == finding(result)
    (figure,) = shown
    assert [ax.get_yscale() for ax in figure.axes] == ["log", "log"]
    assert len(result.settings) == 4 * 3
