"""The adding problem: exactly two markers, one in each half; the target is the sum of the two
marked values; every draw from the seeded generator; the mean predictor's MSE is 1/6."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab.lab.sequences.data import MARKERS, VALUES, adding_problem, baseline_mse


@given(
    seed=st.integers(0, 2**32 - 1),
    sequences=st.integers(1, 40),
    length=st.integers(2, 60),
)
def test_two_markers_one_in_each_half_and_the_target_is_their_values_sum(seed, sequences, length):
    problem = adding_problem(np.random.default_rng(seed), sequences, length)
    assert problem.inputs.shape == (sequences, length, 2)
    assert problem.targets.shape == (sequences, 1)
    for inputs, target in zip(problem.inputs, problem.targets, strict=True):
        markers, values = inputs[:, MARKERS], inputs[:, VALUES]
        assert set(np.unique(markers)) <= {0.0, 1.0}
        first, second = np.flatnonzero(markers)  # exactly two 1s
        assert 0 <= first < length // 2 <= second < length
        assert target[0] == values[first] + values[second]
        assert ((values >= 0) & (values < 1)).all()


def test_every_position_of_each_half_can_be_marked():
    length = 9  # odd: the first half is 0 … 3, the second 4 … 8
    problem = adding_problem(np.random.default_rng(0), 2000, length)
    first, second = problem.marked.T
    assert set(first) == set(range(length // 2))
    assert set(second) == set(range(length // 2, length))
    markers = problem.inputs[:, :, MARKERS]
    assert (np.flatnonzero(markers[0]) == problem.marked[0]).all()


def test_the_same_seed_gives_the_same_sequences_and_another_seed_others():
    one, again = (adding_problem(np.random.default_rng(7), 30, 12) for _ in range(2))
    assert np.array_equal(one.inputs, again.inputs) and np.array_equal(one.targets, again.targets)
    other = adding_problem(np.random.default_rng(8), 30, 12)
    assert not np.array_equal(one.inputs, other.inputs)


def test_the_baseline_is_the_variance_of_a_sum_of_two_uniforms():
    problem = adding_problem(np.random.default_rng(1), 200_000, 4)
    # Var(U(0, 1)) = ∫ x² dx − (∫ x dx)² = 1/3 − 1/4; two independent values add variances
    expected = 2 * (1 / 3 - 1 / 4)
    # the sample variance's standard error is about √((μ₄ − σ⁴) / n); 5 of them
    centred = problem.targets - problem.targets.mean()
    error = np.sqrt(np.var(centred**2) / len(centred))
    assert abs(baseline_mse(problem) - expected) < 5 * error
    assert baseline_mse(problem) == pytest.approx(np.var(problem.targets), rel=1e-12)


@pytest.mark.parametrize(
    "rng, sequences, length, message",
    [
        (np.random.RandomState(0), 3, 4, "expected a seeded np.random.Generator, got RandomState"),
        (None, 3, 4, "expected a seeded np.random.Generator, got NoneType"),
        (np.random.default_rng(0), 0, 4, "sequences must be a whole number >= 1, got 0"),
        (np.random.default_rng(0), 3, 1, "length must be a whole number >= 2, got 1"),
        (np.random.default_rng(0), 3, 4.0, "length must be a whole number >= 2, got 4.0"),
    ],
)
def test_bad_arguments_are_named(rng, sequences, length, message):
    with pytest.raises((TypeError, ValueError), match=message):
        adding_problem(rng, sequences, length)
