"""A diverged run is a result: where it diverged, an exploding verdict, and Q2 and the plots
saying why they are absent; nothing crashes, and sweeps go on with the other seeds."""

import json
import warnings

from tinygrad_lab.lab.cli import main
from tinygrad_lab.lab.rules import LabRun
from tinygrad_lab.lab.stress.analysis import diagnose
from tinygrad_lab.lab.stress.compute import compute_lab
from tinygrad_lab.lab.stress.part_a import RunResult, StressResult
from tinygrad_lab.lab.stress.plots import missing_plots
from tinygrad_lab.lab.stress.report import markdown_report

# Identity activations at these rolls' learning rates overflow: run 1 of 102300990 (seed 0) at
# epoch 5 and its run 2 at once; 102303010 (seed 0) trains run 1 and diverges in run 2.
BOTH_DIVERGE = LabRun.from_roll("102300990", 0, activation="identity")
RUN2_DIVERGES = LabRun.from_roll("102303010", 0, activation="identity")


def test_a_run_that_diverges_reports_where_with_an_exploding_verdict():
    result = compute_lab(BOTH_DIVERGE)
    run1, run2 = result.part_a.run1, result.part_a.run2
    assert (run1.diverged_at, run2.diverged_at) == (5, 1)
    assert len(run1.loss_history) == 4 and run2.loss_history == []
    for run in (run1, run2):
        assert diagnose(run)[0] == "exploding"
        assert run.gri is None and f"diverged at epoch {run.diverged_at}" in (
            run.gri_undefined_reason
        )
    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert document["part_a"]["run1"]["diverged_at"] == 5
    assert document["part_a"]["run1"]["r2"] is None  # no trained network to score
    assert (
        document["q2"]["rank"] is None and "diverged at epoch 1" in document["q2"]["absent_reason"]
    )


def test_q2_of_a_network_that_diverged_in_run_2_says_why_it_is_absent():
    result = compute_lab(RUN2_DIVERGES)  # was: LinAlgError "SVD did not converge"
    assert result.part_a.run1.diverged_at is None and result.part_a.run2.diverged_at == 7
    assert result.q2.rank is None and result.q2.effective_linear_layers is None
    assert "diverged at epoch 7" in result.q2.absent_reason
    report = markdown_report(result)
    assert "Not computed: run 2's training diverged at epoch 7" in report
    assert "Q3: cannot be answered from these runs: run 2 diverged at epoch 7" in report


def test_the_lab_command_writes_a_diverged_run_and_exits_0(tmp_path, capsys):
    out = tmp_path / "d"
    argv = ["lab", "--roll", "102300990", "--activation", "identity", "--out", str(out)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(argv) == 0
    # no screen of overflow warnings: the divergence is the result, reported once
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert capsys.readouterr().err == ""
    results = json.loads((out / "results.json").read_text())
    assert results["part_a"]["run2"]["diagnosis"]["verdict"] == "exploding"
    assert "The loss stopped being finite at epoch 5" in (out / "report.md").read_text()
    rows = (out / "loss_history_run2.csv").read_text().splitlines()
    assert rows == ["epoch,loss"]
    assert (out / "loss_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_a_sweep_goes_on_past_seeds_that_diverge(capsys):
    argv = ["stress-test", "--roll", "102300990", "--activation", "identity", "--seeds", "0-3"]
    assert main([*argv, "--json", "--workers", "2"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["seed"] for r in runs] == [0, 1, 2, 3]
    diverged = [r["part_a"]["run1"]["diverged_at"] for r in runs]
    assert diverged == [5, None, 8, None]


def _diverged_at_once(hidden_layers: int) -> RunResult:
    reason = "training diverged at epoch 1"
    return RunResult(hidden_layers, [], {}, float("nan"), float("nan"), None, reason,
                     float("nan"), {}, {}, diverged_at=1)  # fmt: skip


def test_plots_with_nothing_to_draw_are_not_drawn_and_the_report_says_why(tmp_path):
    result = compute_lab(BOTH_DIVERGE)
    stress = result.part_a
    nothing = StressResult(stress.run, stress.mean_predictor_loss, _diverged_at_once(4),
                           _diverged_at_once(7), _diverged_at_once(7),
                           {"0:Linear": [None, None]})  # fmt: skip
    assert set(missing_plots(nothing)) == {"loss_curves.png", "grad_norms.png"}
    result.part_a = nothing
    report = markdown_report(result)
    assert "`loss_curves.png` is not drawn: no epoch of any run had a finite loss." in report
    assert "`grad_norms.png` is not drawn" in report
