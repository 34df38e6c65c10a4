"""The cut round trip: an exercise file filled with the project's own bodies (what `cut` writes
for a student, with the bodies put back) is the project's op again: its gradients agree with
finite differences on random shapes, broadcasting and values."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, broadcastable_shapes

import tinygrad_lab as tl
from tinygrad_lab.lab.exercises import cut, substitute
from tinygrad_lab.lab.exercises.catalog import BY_NAME

BINARY = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "div": lambda x, y: x / y}
UNARY = {
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "pow": lambda x: x**2.5,
    "sum": lambda x: x.sum(axis=-1),
    "mean": lambda x: x.mean(axis=0, keepdims=True),
    "max": lambda x: x.amax(axis=-1),
    "softmax": lambda x: x.softmax(axis=0),
}


def _cut_versions(name: str) -> dict:
    exercise = BY_NAME[name]
    text = cut.exercise_file(exercise, cut.solution_bodies(exercise))
    return substitute.versions_in(substitute.compile_file(text, f"roundtrip_{name}"), exercise)


def _values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Away from 0 and from ties (relu's kink, max's ties, log's domain, division)."""
    count = int(np.prod(shape))
    values = rng.permutation(np.arange(1, count + 1)).reshape(shape) * (2.0 / count)  # in (0, 2]
    return values * rng.choice([-1.0, 1.0], shape) if shape else np.asarray(values)


@given(
    st.sampled_from(sorted(BINARY)),
    broadcastable_shapes(shape=(2, 3), min_dims=1, min_side=1),
    st.integers(0, 2**32 - 1),
)
def test_a_cut_binary_op_agrees_with_finite_differences(name, shape, seed) -> None:
    rng = np.random.default_rng(seed)
    x = tl.Tensor(_values(rng, (2, 3)), requires_grad=True)
    y = tl.Tensor(_values(rng, shape), requires_grad=True)
    with substitute.substituted(_cut_versions(name)):
        assert tl.gradcheck(BINARY[name], [x, y])


@given(
    st.sampled_from(sorted(UNARY)),
    array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    st.integers(0, 2**32 - 1),
)
def test_a_cut_unary_op_agrees_with_finite_differences(name, shape, seed) -> None:
    rng = np.random.default_rng(seed)
    values = _values(rng, shape)
    if name in ("log", "pow"):
        values = np.abs(values)
    x = tl.Tensor(values, requires_grad=True)
    with substitute.substituted(_cut_versions(name)):
        assert tl.gradcheck(UNARY[name], [x])


def test_substituted_puts_the_projects_own_back() -> None:
    before = substitute.current("tinygrad_lab.ops.elementwise:Mul.backward")
    with substitute.substituted(_cut_versions("mul")):
        assert substitute.current("tinygrad_lab.ops.elementwise:Mul.backward") is not before
    assert substitute.current("tinygrad_lab.ops.elementwise:Mul.backward") is before
