"""λmax of the lab loss's Hessian (tinygrad_lab.lab.stress.curvature): the power iteration against
eigenvalues computed independently, and the report and JSON that show it against 2 / lr."""

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn
from tinygrad_lab.lab.rules import LabRun, lab_config
from tinygrad_lab.lab.stress import curvature
from tinygrad_lab.lab.stress.compute import compute_lab
from tinygrad_lab.lab.stress.part_a import draw_lab, train
from tinygrad_lab.lab.stress.report import markdown_report


def _symmetric(eigenvalues, seed):
    """A symmetric matrix with the given eigenvalues, in a random orthonormal basis."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(eigenvalues),) * 2))
    return q @ np.diag(eigenvalues) @ q.T


spectra = st.lists(
    st.floats(-10, 10, allow_nan=False).filter(lambda x: abs(x) > 1e-3), min_size=2, max_size=12
)


@settings(max_examples=40, deadline=None)
@given(eigenvalues=spectra, seed=st.integers(0, 2**32 - 1))
def test_largest_eigenvalue_is_the_most_positive_one_even_when_a_negative_one_dominates(
    eigenvalues, seed
):
    eigenvalues = np.array(eigenvalues)
    ordered = np.sort(eigenvalues)
    magnitudes = np.sort(np.abs(eigenvalues))
    # power iteration converges as (second / first)^k: keep the drawn spectra separable
    separated = magnitudes[-1] - magnitudes[-2] > 0.05 * magnitudes[-1]
    shifted_gap = ordered[-1] - ordered[-2] > 0.05 * (ordered[-1] - ordered[0])
    assume(separated and shifted_gap)
    matrix = _symmetric(eigenvalues, seed)
    got = curvature.largest_eigenvalue(
        lambda v: matrix @ v, len(eigenvalues), np.random.default_rng(seed)
    )
    dominant = eigenvalues[np.argmax(np.abs(eigenvalues))]
    assert got.converged
    assert math.isclose(got.largest_magnitude, dominant, rel_tol=1e-10)
    assert got.shifted == (dominant < 0)
    assert math.isclose(got.lambda_max, ordered[-1], rel_tol=1e-9, abs_tol=1e-9 * abs(dominant))


def test_power_iteration_reports_when_it_did_not_converge():
    # two eigenvalues of one magnitude and opposite signs: v flips between them, never settles
    matrix = _symmetric([3.0, -3.0, 1.0], seed=0)
    got = curvature.power_iteration(lambda v: matrix @ v, np.ones(3), max_iterations=50)
    assert not got.converged and got.iterations == 50 and got.residual > curvature.TOLERANCE


def _model_gradient(model, X, y, theta):
    """The engine's first-order gradient of the lab loss at ``theta``, through the model
    itself (its parameters set to ``theta``, `backward`, `.grad`)."""
    start = 0
    for p in model.parameters():
        p.data = theta[start : start + p.size].reshape(p.shape).copy()
        start += p.size
    model.zero_grad()
    nn.MSELoss()(model(Tensor(X)), Tensor(y)).backward()
    return np.concatenate([np.ravel(p.grad) for p in model.parameters()])


def _closest_to_a_kink(model, X):
    """The smallest |input| of any ReLU-like layer over the data: central differences with a
    step near it would straddle the kink, where the second derivative is undefined (PyTorch's
    convention, and the engine's, is 0 there)."""
    x, closest = Tensor(X), np.inf
    for layer in model:
        if isinstance(layer, nn.ReLU | nn.LeakyReLU):
            closest = min(closest, float(np.abs(x.data).min()))
        x = layer(x)
    return closest


def _central_difference_hessian(model, X, y, theta, h=1e-7):
    columns = []
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = h
        plus = _model_gradient(model, X, y, theta + step)
        minus = _model_gradient(model, X, y, theta - step)
        columns.append((plus - minus) / (2 * h))
    _model_gradient(model, X, y, theta)  # the model's own weights back
    hessian = np.stack(columns, axis=1)
    return (hessian + hessian.T) / 2


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    roll=st.sampled_from(["100", "201", "312", "405"]),  # widths 6, 7, 8, 11; ReLU and not
    seed=st.integers(0, 999),
    epochs=st.integers(1, 15),
)
def test_lambda_max_of_the_lab_network_equals_the_central_difference_hessians(roll, seed, epochs):
    config = lab_config(roll)
    X, y, model, _ = draw_lab(LabRun(config, seed))
    train(model, Tensor(X), Tensor(y), config.learning_rate, epochs)
    assume(_closest_to_a_kink(model, X) > 1e-5)  # a step of 1e-7 moves no input that far
    measured = curvature.measure_curvature(model, X, y, config.learning_rate, seed)
    theta = np.concatenate([p.data.ravel() for p in model.parameters()])
    eigenvalues = np.linalg.eigvalsh(_central_difference_hessian(model, X, y, theta))
    assert measured.power.converged
    # central differences are good to about h² and rounding / h: well within 1e-6 relative
    assert math.isclose(measured.lambda_max, eigenvalues[-1], rel_tol=1e-6)
    assert math.isclose(measured.check.lambda_max, eigenvalues[-1], rel_tol=1e-6)
    assert math.isclose(measured.check.lambda_min, eigenvalues[0], rel_tol=1e-5, abs_tol=1e-8)
    assert measured.check.agrees  # power iteration against the full Hessian: 1e-8
    assert measured.stable == (eigenvalues[-1] < 2 / config.learning_rate)


def test_the_report_and_json_show_lambda_max_against_2_over_lr_for_runs_1_and_2():
    run = LabRun.from_roll("102303346", seed=2, epochs=12)
    result = compute_lab(run, parts=("a", "hessian"))
    document = result.to_json()["curvature"]
    assert list(document) == ["run1", "run2"]
    assert list(document["run1"]) == [
        "learning_rate", "stability_limit", "lambda_max", "stable", "headroom", "parameters",
        "power_iteration", "hessian_check", "absent_reason",
    ]  # fmt: skip
    assert list(document["run1"]["power_iteration"]) == [
        "lambda_max", "largest_magnitude", "shifted", "iterations", "converged",
    ]  # fmt: skip
    assert list(document["run1"]["hessian_check"]) == [
        "lambda_max", "lambda_min", "largest_magnitude", "relative_difference", "asymmetry",
        "agrees", "tolerance",
    ]  # fmt: skip
    report = markdown_report(result)
    for name in ("run1", "run2"):
        figures = document[name]
        assert figures["stability_limit"] == 2 / run.config.learning_rate
        assert figures["stable"] == (figures["lambda_max"] < figures["stability_limit"])
        check = figures["hessian_check"]
        assert check["agrees"] and check["relative_difference"] <= 1e-8
        assert abs(figures["lambda_max"] - check["lambda_max"]) <= 1e-8 * abs(check["lambda_max"])
        row = next(line for line in report.splitlines() if line.startswith(f"| {name} |"))
        assert f"| {figures['lambda_max']:.6g} | {figures['stability_limit']:.6g} |" in row
    assert "## Learning rate overshoot?" in report
    assert "agrees with the power iteration to 1e-08" in report


def test_a_diverged_run_has_no_curvature_and_says_why():
    # identity activations at this roll's rate: run 1 trains, run 2 diverges at epoch 7
    result = compute_lab(LabRun.from_roll("102303010", 0, activation="identity"), ("a", "hessian"))
    run1, run2 = result.curvature["run1"], result.curvature["run2"]
    assert run1.lambda_max is not None and run1.check.agrees
    assert run2.lambda_max is None and run2.stable is None and run2.check is None
    assert "run2's training diverged at epoch 7" in run2.absent_reason
    document = result.to_json()["curvature"]["run2"]
    assert document["lambda_max"] is None and document["absent_reason"] == run2.absent_reason
    assert f"- run2: not measured: {run2.absent_reason}." in markdown_report(result)


def test_measuring_the_curvature_changes_none_of_the_stress_tests_figures():
    from tinygrad_lab.lab.stress.part_a import run_stress_test

    run = LabRun.from_roll("102303346", seed=5, epochs=15)
    measured = compute_lab(run, parts=("a",))
    assert measured.curvature["run1"].lambda_max is not None
    assert measured.part_a == run_stress_test(run)  # every loss, norm and series, to the bit
