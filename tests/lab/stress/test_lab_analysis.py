"""Part B figures from real layers, Q2's affine fold, GRI edge cases and the diagnosis."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import nn
from tinygrad_lab.lab.rules import LabRun, NonIntegerOutputSize, course_output_size, lab_config
from tinygrad_lab.lab.stress.analysis import affine_fold, diagnose, fold_linear
from tinygrad_lab.lab.stress.part_a import RunResult, gradient_ratio_index, run_stress_test
from tinygrad_lab.lab.stress.part_b import run_part_b
from tinygrad_lab.lab.stress.report import markdown_report

rolls = st.text(alphabet="0123456789", min_size=3, max_size=9)


@given(roll=rolls)
def test_part_b_counts_come_from_real_layers_and_match_the_formulas(roll):
    config = lab_config(roll)
    part_b = run_part_b(config)
    n, k, f = config.image_side, config.conv_filters, config.conv_filter_size
    assert part_b.dense_parameters == n * n * config.dense_neurons + config.dense_neurons
    assert part_b.conv_parameters == f * f * k + k
    numerator = n - 3 + 2 * config.output_padding
    if numerator % config.output_stride:
        assert part_b.output_size is None
        assert f"N={n}, F=3, S={config.output_stride}" in part_b.output_size_error
    else:
        assert part_b.output_size == numerator // config.output_stride + 1
        assert part_b.output_size == part_b.output_size_forward
    i, j = np.indices((5, 5))
    matrix = (config.a + i) + (config.b + j)
    kernel = -np.ones((3, 3))
    kernel[1, 1] = 3
    assert part_b.manual_convolution == np.sum(matrix[1:4, 1:4] * kernel)
    assert part_b.manual_convolution_map[1][1] == part_b.manual_convolution
    assert part_b.manual_convolution_map[2][0] == np.sum(matrix[2:5, 0:3] * kernel)


def test_non_integer_output_size_is_the_labs_error_naming_the_configuration():
    with pytest.raises(NonIntegerOutputSize, match=r"N=30, F=3, S=2, P=1"):
        course_output_size(30, 3, 2, 1)
    assert course_output_size(30, 3, 1, 1) == 30
    assert nn.Conv2d(1, 1, 3, stride=2, padding=1).output_size(30, 30) == (15, 15)  # floors
    part_b = run_part_b(lab_config("016"))  # N = 30, F = 3, S = 2, P = 0: 27/2
    assert part_b.output_size is None and "N=30, F=3, S=2, P=0" in part_b.output_size_error


@given(first=st.floats(0, 10), last=st.floats(0, 10))
def test_gri_is_a_ratio_or_undefined_with_a_reason_never_nan(first, last):
    gri, reason = gradient_ratio_index(first, last)
    if last == 0:
        assert gri is None and reason
    else:
        assert gri == first / last and reason is None


@given(depth=st.integers(1, 6), width=st.integers(1, 8), seed=st.integers(0, 1000))
def test_affine_fold_reproduces_a_linear_network(depth, width, seed):
    rng = np.random.default_rng(seed)
    sizes = [3] + [width] * depth + [2]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out, rng=rng), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    X = rng.uniform(-2, 2, (20, 3))
    fold = affine_fold(model, X)
    assert fold.max_abs_difference < 1e-12
    assert fold.weight.shape == (3, 2)
    assert fold.rank == np.linalg.matrix_rank(fold.weight)
    weight, bias = fold_linear(nn.Sequential(*[m for m in model if isinstance(m, nn.Linear)]))
    np.testing.assert_array_equal(weight, fold.weight)


def test_fold_rejects_non_linear_layers():
    with pytest.raises(TypeError, match="ReLU is not linear"):
        fold_linear(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))


def _run(gri, dead=None, r2=0.5, diverged=None):
    reason = None if gri is not None else "both gradient norms are exactly 0"
    return RunResult(5, [1.0], {1: 1.0}, 0.0, 0.0, gri, reason, r2, {}, dead or {}, diverged)


@pytest.mark.parametrize(
    ("run", "verdict"),
    [
        (_run(0.05), "vanishing"),
        (_run(20.0), "exploding"),
        (_run(1.0), "stable"),
        (_run(None), "dead network"),
        (_run(0.5, dead={"3:ReLU": 1.0}), "dead network"),
        (_run(1.0, diverged=12), "exploding"),
    ],
)
def test_diagnosis_follows_the_documented_thresholds(run, verdict):
    assert diagnose(run)[0] == verdict


def test_low_r2_is_called_out_in_the_diagnosis():
    assert "little more than the mean" in diagnose(_run(1.0, r2=0.01))[1]
    assert "little more than the mean" not in diagnose(_run(1.0, r2=0.9))[1]


def test_stress_test_reports_r2_against_the_mean_predictor():
    result = run_stress_test(LabRun(lab_config("102303346"), seed=3, epochs=20))
    for run in (result.run1, result.run2):
        assert math.isclose(run.r2, 1 - run.loss_history[-1] / result.mean_predictor_loss)
    assert result.run2.hidden_layers == 8


def test_epochs_must_be_positive():
    with pytest.raises(ValueError, match="epochs must be a positive"):
        LabRun(lab_config("102303346"), epochs=0)
    with pytest.raises(ValueError, match="epochs must be a positive"):
        LabRun.from_roll("102303346", epochs=-3)


def test_results_are_json_safe_with_undefined_values_as_null():
    import json

    from tinygrad_lab.lab.stress.compute import clean

    cleaned = clean({"a": np.array([[1.0, np.nan]]), "b": np.float64(np.inf), "c": (np.int64(3),)})
    assert cleaned == {"a": [[1.0, None]], "b": None, "c": [3]}
    assert json.loads(json.dumps(cleaned, allow_nan=False)) == cleaned


def test_a_stable_ratio_in_a_network_that_did_not_learn_is_not_called_stable():
    verdict, explanation = diagnose(_run(1.2, r2=0.01))
    assert verdict == "not learning"
    assert explanation.startswith("Gradient ratio stable, but the network did not learn")
    verdict, explanation = diagnose(_run(1.2, r2=0.9))
    assert verdict == "stable" and "the network learned: R² = 0.9" in explanation


def test_negative_r2_reads_worse_than_the_mean():
    _, explanation = diagnose(_run(1.2, r2=-0.31))
    assert "R² = -0.31 < 0, it predicts worse than the mean of y" in explanation


def test_comparisons_in_a_verdict_print_enough_digits_to_be_true():
    verdict, explanation = diagnose(_run(10.0068, r2=0.939))
    assert verdict == "exploding"
    assert "GRI = 10.01 > 10:" in explanation and "10 > 10" not in explanation
    assert "though the network learned: R² = 0.939" in explanation
    assert "GRI = 0.09999 < 0.1" in diagnose(_run(0.09999, r2=0.5))[1]
    assert "GRI = 9.9996 is within [0.1, 10]" in diagnose(_run(9.9996, r2=0.5))[1]
    assert "R² = 0.0499999 < 0.05" in diagnose(_run(1.0, r2=0.0499999))[1]


@given(roll=rolls)
def test_part_b_notes_claim_the_documents_minus_18_only_for_the_example_digits(roll):
    config = lab_config(roll)
    part_b = run_part_b(config)
    manual = part_b.notes[0]
    if (config.a, config.b) == (6, 4):
        assert "−18 is wrong" in manual and "-70" in manual
    else:  # the documents say nothing of this roll's value, and their -70 is not its value
        assert "agreeing with this computation" not in manual
        assert "example roll only (a = 6, b = 4)" in manual
        assert (
            f"For this roll (a = {config.a}, b = {config.b}) it is {part_b.manual_convolution:g}"
            in manual
        )
    f_note = part_b.notes[1]
    if config.conv_filter_size == 3:  # both Fs are 3: no "F = 3, not F = 3"
        assert f_note.startswith("Both questions use F = 3") and "not the conv" not in f_note
    else:
        assert "not the conv filter size F = 4" in f_note


def test_the_report_says_the_forward_pass_floors_a_non_integer_output_size():
    from tinygrad_lab.lab.stress.compute import compute_lab

    report = markdown_report(compute_lab(LabRun.from_roll("016"), parts=("b",)))  # 27/2 + 1
    assert "checked against a Conv2d forward pass (14)" not in report
    assert "a Conv2d forward pass floors the quotient and gives 14, which disagrees" in report
    report = markdown_report(compute_lab(LabRun.from_roll("102303346"), parts=("b",)))
    assert "a Conv2d forward pass agrees with (30)" in report


def test_a_last_epoch_gradient_that_overflowed_is_exploding_not_a_dead_network():
    reason = "a gradient norm is not finite (training diverged)"
    run = RunResult(5, [1.0], {1: 1.0}, math.inf, 2.0, None, reason, 0.5, {}, {})
    verdict, explanation = diagnose(run)
    assert (
        verdict == "exploding" and "GRI is undefined: a gradient norm is not finite" in explanation
    )
