"""The adding problem: two marked numbers in a long random sequence; predict their sum.

Hochreiter & Schmidhuber (1997, "Long short-term memory", Experiment 4) posed it to show that a
recurrent network must carry information over many steps. This is the now standard simplified
form of Arjovsky, Shah & Bengio (2016, "Unitary evolution recurrent neural networks", §4.2),
also used by Le, Jaitly & Hinton (2015): each sequence of length T has two channels,

- channel 0: values drawn independently from U(0, 1);
- channel 1: a marker, 0 everywhere except exactly two 1s, the first at a position drawn
  uniformly from the first half ``0 … T//2 − 1`` and the second from the second half
  ``T//2 … T − 1``;

and its target is the sum of the two marked values. (The 1997 original draws values from
U(−1, 1), marks one of the first ten steps and one of the first T/2 − 1, and lengthens each
sequence at random; the simplified form keeps its point: the first marker is at least T/2 steps
from the end, so the network must remember it that long.) Predicting the mean, 1, whatever the
input, gives the variance of a sum of two U(0, 1) values, 1/6: the baseline every loss is
compared against (`baseline_mse`, computed from the data, not typed in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VALUES, MARKERS = 0, 1  # the channels


@dataclass(frozen=True)
class AddingProblem:
    """``inputs`` (N, T, 2) with the values and the markers, ``targets`` (N, 1), and where the
    markers are (``marked`` (N, 2): first and second marked step of each sequence)."""

    inputs: np.ndarray
    targets: np.ndarray
    marked: np.ndarray

    @property
    def length(self) -> int:
        return self.inputs.shape[1]


def adding_problem(rng: np.random.Generator, sequences: int, length: int) -> AddingProblem:
    """``sequences`` sequences of ``length`` steps, every draw from ``rng`` (values, then the
    first markers, then the second), batch first."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"adding_problem: expected a seeded np.random.Generator, got {type(rng).__name__}"
        )
    for name, value, low in (("sequences", sequences, 1), ("length", length, 2)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
            raise ValueError(
                f"adding_problem: {name} must be a whole number >= {low}, got {value!r}"
            )
    half = length // 2
    values = rng.uniform(0.0, 1.0, size=(sequences, length))
    first = rng.integers(0, half, size=sequences)  # the first half: 0 … half - 1
    second = rng.integers(half, length, size=sequences)  # the second: half … length - 1
    marked = np.stack([first, second], axis=1)
    markers = np.zeros((sequences, length))
    rows = np.arange(sequences)[:, None]
    markers[rows, marked] = 1.0
    inputs = np.stack([values, markers], axis=2)
    targets = values[rows, marked].sum(axis=1, keepdims=True)
    return AddingProblem(inputs, targets, marked)


def baseline_mse(problem: AddingProblem) -> float:
    """The MSE of always predicting the mean target, on ``problem``: its targets' variance
    (about 1/6)."""
    return float(np.mean((problem.targets - problem.targets.mean()) ** 2))
