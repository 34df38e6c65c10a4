"""What each exercise is run on, and how: a ladder of cases from one element up (the grader
chooses them; the first that fails is the smallest failing case) and the computation whose
outputs are compared. The same `run` computes the reference (the project's own code, in the
grader's process), a known mistake's outputs, and the student's raw outputs (in the child).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_lab as tl
from tinygrad_lab import numpy_interop, ops
from tinygrad_lab.lab.exercises.case import Case, Outputs


# ------------------------------------------------------------------------------------ runs
def _seeded(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


OPS: dict[str, Callable[..., Any]] = {
    "add": lambda x, y: x + y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, p: x**p,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "matmul": lambda x, y: x @ y,
    "sum": lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims),
    "mean": lambda x, axis=None, keepdims=False: x.mean(axis=axis, keepdims=keepdims),
    "max": lambda x, axis=None, keepdims=False: x.amax(axis=axis, keepdims=keepdims),
    "softmax": lambda x, axis=-1: x.softmax(axis=axis),
    "cross_entropy": lambda x, target: ops.CrossEntropy.apply(x, target),
    "conv2d": lambda x, w, b=None, **s: tl.nn.functional.conv2d(x, w, b, **s),
    "max_pool": lambda x, **s: tl.nn.functional.max_pool2d(x, **s),
    "linear": lambda x, w, b=None: ops.Affine.apply(x, w, b),
    "batch_norm": lambda x, weight, bias, running_mean, running_var, **s: (
        tl.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, **s)
    ),
}


def run_op(name: str, case: Case) -> Outputs:
    """The op forward, then backward from a seeded gradient: each differentiated input's grad."""
    settings = {k: (tuple(v) if isinstance(v, list) else v) for k, v in case.settings.items()}
    seed, diff = settings.pop("seed"), settings.pop("diff")
    tensors = {
        k: tl.Tensor(v.copy(), requires_grad=k in diff) if k in diff else v.copy()
        for k, v in case.arrays.items()
    }
    out = OPS[name](**tensors, **settings)
    out.backward(_seeded(seed, out.shape))
    return {f"grad {k}": tensors[k].grad for k in diff if tensors[k].grad is not None}


def _graph(name: str, a: Any, b: Any, seen: dict[str, list]) -> Any:
    """A small graph over leaves ``a`` and ``b``; hooks note the gradient reaching ``h``."""
    h = a * b  # used by several ops, along paths of different lengths
    h.register_hook(lambda g: seen["hook h"].append(np.array(g)))
    if name == "fanout":
        return (h * a + h.exp() + a).sum()
    if name == "diamond":
        u, v = h.exp(), (h * h).tanh()
        return (u * v).sum() + h.sum()
    if name == "long_short":
        k = h.tanh().exp().sigmoid().exp()
        return (k * h + a).sum()
    raise KeyError(name)


def run_graph(case: Case) -> Outputs:
    """Backward through a graph (``twice``: two graphs, one after the other, sharing leaves):
    the leaves' grads, the retained grad of ``h``, and what the hook on ``h`` saw."""
    a = tl.Tensor(case.arrays["a"].copy(), requires_grad=True)
    b = tl.Tensor(case.arrays["b"].copy(), requires_grad=True)
    seen: dict[str, list] = {"hook h": []}
    for _ in range(2 if case.settings.get("twice") else 1):
        _graph(case.settings["graph"], a, b, seen).backward()
    outputs = {"grad a": a.grad, "grad b": b.grad}
    outputs["hook h"] = np.stack(seen["hook h"]) if seen["hook h"] else np.zeros(0)
    return {k: v for k, v in outputs.items() if v is not None}


def run_unbroadcast(case: Case) -> Outputs:
    if "graph" in case.settings:
        return run_graph(case)
    shape = tuple(case.settings["shape"])
    return {"unbroadcast(grad, shape)": numpy_interop.unbroadcast(case.arrays["grad"], shape)}


def run_optimizer(case: Case) -> Outputs:
    """Steps of the optimizer on one parameter with the given gradients: p after each step."""
    settings = dict(case.settings)
    kind = settings.pop("optimizer")
    if "betas" in settings:
        settings["betas"] = tuple(settings["betas"])
    p = tl.nn.Parameter(case.arrays["p"].copy())
    optimizer = (tl.optim.SGD if kind == "sgd" else tl.optim.Adam)([p], **settings)
    trajectory = []
    for grad in case.arrays["grads"]:
        p.grad = grad.copy()
        optimizer.step()
        trajectory.append(np.array(p.data))
    return {"p after each step": np.stack(trajectory)}


def run(name: str, case: Case, module: Any = None) -> Outputs:
    """Exercise ``name`` on ``case``, with whatever versions are installed now."""
    if name == "unbroadcast":
        return run_unbroadcast(case)
    if name in ("visit", "walk", "commit"):
        return run_graph(case)
    if name in ("sgd", "adam"):
        return run_optimizer(case)
    if name == "custom_layer":
        from tinygrad_lab.lab.exercises.layer import run_layer

        return run_layer(module, case)
    return run_op(name, case)
