"""Each exercise's cases, smallest first: one element, then a few, then broadcasting, other
axes, ties, settings. Drawn from a generator seeded by the exercise's name, so every student of
a class is graded on the same inputs, and the first case that fails is the smallest failing one.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from tinygrad_lab.lab.exercises.case import Case

Ladder = Callable[[np.random.Generator], list[Case]]


def _normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def _ties(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Small whole numbers: many entries tie for the maximum."""
    return rng.integers(0, 3, shape).astype(np.float64)


SHAPES = [(1,), (2,), (2, 3), (3, 2, 2)]
PAIRS = [((1,), (1,)), ((2,), (2,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3))]
PAIRS += [((3, 2, 2), (2, 1))]


def _unary(draw: Callable = _normal) -> Ladder:
    return lambda rng: [
        Case({"x": draw(rng, s)}, {"seed": i, "diff": ["x"]}) for i, s in enumerate(SHAPES)
    ]


def _binary(draw_y: Callable = _normal) -> Ladder:
    return lambda rng: [
        Case({"x": _normal(rng, a), "y": draw_y(rng, b)}, {"seed": i, "diff": ["x", "y"]})
        for i, (a, b) in enumerate(PAIRS)
    ]


def _pow(rng: np.random.Generator) -> list[Case]:
    steps = [((1,), 2.0), ((2,), 3.0), ((2, 3), 0.5), ((2, 3), -1.0), ((3, 2, 2), 1.5)]
    return [
        Case({"x": _positive(rng, s)}, {"p": p, "seed": i, "diff": ["x"]})
        for i, (s, p) in enumerate(steps)
    ]


def _matmul(rng: np.random.Generator) -> list[Case]:
    steps = [((1, 1), (1, 1)), ((2, 2), (2, 2)), ((2, 3), (3, 4)), ((3,), (3, 2))]
    steps += [((2, 3), (3,)), ((2, 2, 3), (3, 2))]
    return [
        Case({"x": _normal(rng, a), "y": _normal(rng, b)}, {"seed": i, "diff": ["x", "y"]})
        for i, (a, b) in enumerate(steps)
    ]


def _reduction(draw: Callable = _normal) -> Ladder:
    steps = [((1,), None, False), ((3,), None, False), ((3, 3), 1, False), ((2, 3), 0, True)]
    steps += [((2, 3, 4), [0, 2], False), ((2, 3, 4), -1, True)]
    return lambda rng: [
        Case({"x": draw(rng, s)}, {"axis": a, "keepdims": k, "seed": i, "diff": ["x"]})
        for i, (s, a, k) in enumerate(steps)
    ]


def _softmax(rng: np.random.Generator) -> list[Case]:
    steps = [((1,), -1), ((3,), -1), ((2, 3), -1), ((3, 3), 0), ((2, 3, 4), 1)]
    return [
        Case({"x": _normal(rng, s)}, {"axis": a, "seed": i, "diff": ["x"]})
        for i, (s, a) in enumerate(steps)
    ]


def _cross_entropy(rng: np.random.Generator) -> list[Case]:
    steps = [(1, 1), (1, 3), (2, 3), (3, 3), (4, 5)]
    return [
        Case(
            {"x": _normal(rng, (n, c)), "target": rng.integers(0, c, n).astype(np.float64)},
            {"seed": i, "diff": ["x"]},
        )
        for i, (n, c) in enumerate(steps)
    ]


def _conv2d(rng: np.random.Generator) -> list[Case]:
    steps = [
        ((1, 1, 1, 1), (1, 1, 1, 1), False, {}),
        ((1, 1, 3, 3), (1, 1, 2, 2), False, {}),
        ((2, 2, 4, 4), (3, 2, 3, 3), True, {}),
        ((1, 2, 5, 5), (2, 2, 3, 3), True, {"stride": 2, "padding": 1}),
        ((1, 1, 6, 6), (2, 1, 2, 2), True, {"dilation": 2}),
        ((1, 4, 4, 4), (4, 2, 3, 3), True, {"groups": 2, "padding": 1}),
    ]
    cases = []
    for i, (xs, ws, bias, settings) in enumerate(steps):
        arrays = {"x": _normal(rng, xs), "w": _normal(rng, ws)}
        if bias:
            arrays["b"] = _normal(rng, ws[:1])
        cases.append(Case(arrays, {**settings, "seed": i, "diff": list(arrays)}))
    return cases


def _max_pool(rng: np.random.Generator) -> list[Case]:
    steps = [
        ((1, 1, 1, 1), {"kernel_size": 1}),
        ((1, 1, 2, 2), {"kernel_size": 2}),
        ((1, 2, 4, 4), {"kernel_size": 2}),
        ((1, 1, 3, 3), {"kernel_size": 2, "stride": 1}),
        ((2, 1, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ]
    return [
        Case({"x": _ties(rng, s)}, {**settings, "seed": i, "diff": ["x"]})
        for i, (s, settings) in enumerate(steps)
    ]


def _linear(rng: np.random.Generator) -> list[Case]:
    steps = [((1, 1), (1, 1)), ((2, 2), (2, 2)), ((3, 2), (2, 4)), ((2, 3, 2), (2, 4))]
    cases = []
    for i, (xs, ws) in enumerate(steps):
        arrays = {"x": _normal(rng, xs), "w": _normal(rng, ws), "b": _normal(rng, ws[1:])}
        cases.append(Case(arrays, {"seed": i, "diff": ["x", "w", "b"]}))
    return cases


def _batch_norm(rng: np.random.Generator) -> list[Case]:
    steps = [((2, 1), True), ((3, 2), True), ((4, 3), True), ((2, 2, 3, 3), True)]
    steps += [((3, 2), False), ((2, 2, 2, 2), False)]
    cases = []
    for i, (shape, training) in enumerate(steps):
        c = shape[1]
        arrays = {"x": _normal(rng, shape), "weight": _positive(rng, (c,))}
        arrays |= {"bias": _normal(rng, (c,)), "running_mean": _normal(rng, (c,))}
        arrays["running_var"] = _positive(rng, (c,))
        settings = {"training": training, "seed": i, "diff": ["x", "weight", "bias"]}
        cases.append(Case(arrays, settings))
    return cases


GRAPH_SHAPES = [((1,), (1,)), ((2,), (2,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3))]


def _graphs(names: list[tuple[str, bool]]) -> Ladder:
    def ladder(rng: np.random.Generator) -> list[Case]:
        cases = []
        for a, b in GRAPH_SHAPES:
            for name, twice in names:
                arrays = {"a": _normal(rng, a) * 0.5, "b": _normal(rng, b) * 0.5}
                cases.append(Case(arrays, {"graph": name, "twice": twice}))
        return cases

    return ladder


ENGINE_GRAPHS = [("fanout", False), ("diamond", False), ("long_short", False), ("fanout", True)]


def _unbroadcast(rng: np.random.Generator) -> list[Case]:
    steps = [((1,), (1,)), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (2, 1)), ((2, 3), (1, 3))]
    steps += [((4, 2, 3), (2, 1)), ((2, 3), ()), ((2, 1, 3), (1, 4, 1, 1))]
    cases = []
    for grad_shape, shape in steps:
        if len(shape) > len(grad_shape):  # a stretched grad of a shape with more axes: skip
            continue
        cases.append(Case({"grad": _normal(rng, grad_shape)}, {"shape": list(shape)}))
    return cases + _graphs([("fanout", False)])(rng)[3:]


def _optimizer(kind: str, steps: list[dict]) -> Ladder:
    def ladder(rng: np.random.Generator) -> list[Case]:
        cases = []
        for shape, settings in steps:
            arrays = {"p": _normal(rng, shape), "grads": _normal(rng, (3, *shape))}
            cases.append(Case(arrays, {"optimizer": kind, **settings}))
        return cases

    return ladder


SGD_STEPS = [((1,), {"lr": 0.1}), ((1,), {"lr": 0.1, "momentum": 0.9})]
SGD_STEPS += [((3,), {"lr": 0.05, "momentum": 0.9, "dampening": 0.1})]
SGD_STEPS += [((2, 3), {"lr": 0.05, "momentum": 0.8, "nesterov": True})]
SGD_STEPS += [((2, 3), {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01})]
ADAM_STEPS = [((1,), {"lr": 0.1}), ((3,), {"lr": 0.01, "betas": [0.8, 0.99]})]
ADAM_STEPS += [((2, 3), {"lr": 0.01, "eps": 1e-3, "weight_decay": 0.1})]
ADAM_STEPS += [((2, 3), {"lr": 0.01, "amsgrad": True})]

LADDERS: dict[str, Ladder] = {
    "unbroadcast": _unbroadcast,
    "visit": _graphs(ENGINE_GRAPHS),
    "walk": _graphs(ENGINE_GRAPHS),
    "commit": _graphs(ENGINE_GRAPHS),
    "add": _binary(),
    "mul": _binary(),
    "div": _binary(_away_from_zero),
    "pow": _pow,
    "exp": _unary(),
    "log": _unary(_positive),
    "relu": _unary(_away_from_zero),
    "sigmoid": _unary(),
    "tanh": _unary(),
    "matmul": _matmul,
    "sum": _reduction(),
    "mean": _reduction(),
    "max": _reduction(_ties),
    "softmax": _softmax,
    "cross_entropy": _cross_entropy,
    "conv2d": _conv2d,
    "max_pool": _max_pool,
    "linear": _linear,
    "batch_norm": _batch_norm,
    "custom_layer": lambda rng: [Case({}, {"seed": s}) for s in (1, 2, 3)],
    "sgd": _optimizer("sgd", SGD_STEPS),
    "adam": _optimizer("adam", ADAM_STEPS),
}


def cases(name: str) -> list[Case]:
    """Exercise ``name``'s ladder of cases, the same on every call."""
    return LADDERS[name](np.random.default_rng(zlib.crc32(name.encode())))
