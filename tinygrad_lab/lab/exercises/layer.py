"""The layer of the student's design: what is graded, and the file the student starts from.

Graded (on three inputs the grader's seeds draw): the file defines ``INPUT_SHAPE`` and a
`Module` ``MyLayer(rng)`` with at least one parameter, whose output is made by an op of the
student's own (a `Function` subclass defined in the file, with its own ``backward``); and that
backward agrees with central finite differences of the layer's forward, for the input and every
parameter. The child returns raw values only (the forward at shifted points); the grader
computes the finite differences and decides.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_lab as tl
from tinygrad_lab.lab.exercises.case import Case, Outputs

STEP = 1e-6  # the finite-difference step
MAX_ENTRIES = 400  # input and parameters together: each entry costs two forwards

TEMPLATE = '''"""Exercise `custom_layer` (layers, 3 points): a layer of your design.

Write an op of your own (a Function with forward and backward on NumPy arrays) and a Module
that uses it. Graded: MyLayer(rng) has at least one parameter, its output is made by your op,
and your backward agrees with finite differences of your forward, for the input and every
parameter, on inputs of shape INPUT_SHAPE (at most 400 entries with the parameters). Walk
through it in notebooks/custom_layer.ipynb. Only this file is graded.
"""

from __future__ import annotations

import numpy as np

from tinygrad_lab import Tensor
from tinygrad_lab.nn import Module, Parameter
from tinygrad_lab.tensor import Function

INPUT_SHAPE = (4, 3)  # the input your layer takes: the grader draws inputs of this shape


class MyOp(Function):
    @staticmethod
    def forward(ctx, x, w):
        # TODO: compute your op on arrays; ctx.save_for_backward(...) what backward needs
        raise NotImplementedError("exercise custom_layer: write MyOp.forward")

    @staticmethod
    def backward(ctx, grad):
        # TODO: return (gradient at x, gradient at w), each of its input's shape
        raise NotImplementedError("exercise custom_layer: write MyOp.backward")


class MyLayer(Module):
    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.weight = Parameter(rng.standard_normal((3, 2)))  # your parameters

    def forward(self, x: Tensor) -> Tensor:
        return MyOp.apply(x, self.weight)
'''


def _own_op(output: Any, module: Any) -> bool:
    """Whether some node of ``output``'s graph is an op defined in the student's file."""
    stack, seen = [output], set()
    while stack:
        tensor = stack.pop()
        ctx = tensor.grad_fn
        if ctx is None or id(ctx) in seen:
            continue
        seen.add(id(ctx))
        kind = type(ctx)
        if kind.__module__ == module.__name__ and "backward" in vars(kind):
            return True
        stack.extend(ctx.parents)
    return False


def run_layer(module: Any, case: Case) -> Outputs:
    """The student's layer on the case's seed: the output, the backward's gradients, and the
    weighted output at each entry shifted by ±STEP (for the grader's finite differences)."""
    rng = np.random.default_rng(case.settings["seed"])
    layer = module.MyLayer(rng)
    params = list(layer.parameters())
    x = tl.Tensor(rng.standard_normal(tuple(module.INPUT_SHAPE)), requires_grad=True)
    out = layer(x)
    weights = rng.standard_normal(out.shape)
    (out * tl.Tensor(weights)).sum().backward()
    leaves = [x, *params]
    if sum(t.data.size for t in leaves) > MAX_ENTRIES:
        raise ValueError(f"the input and parameters have more than {MAX_ENTRIES} entries")
    outputs = {"own op": np.array(float(_own_op(out, module))), "parameters": np.array(len(params))}
    grads = [np.zeros_like(t.data) if t.grad is None else t.grad for t in leaves]
    outputs["backward"] = np.concatenate([g.ravel() for g in grads])
    shifted = []
    with tl.no_grad():
        for leaf in leaves:
            flat = leaf.data.reshape(-1)  # a view: shifting it shifts the leaf
            for i in range(flat.size):
                kept = flat[i]
                for step in (STEP, -STEP):
                    flat[i] = kept + step
                    shifted.append(float((np.asarray(layer(x).data) * weights).sum()))
                flat[i] = kept
    outputs["shifted"] = np.array(shifted).reshape(-1, 2)
    return outputs


def finite_differences(outputs: Outputs) -> np.ndarray:
    """The gradient the forward's values imply: (f(θ + h) - f(θ - h)) / 2h, entry by entry."""
    shifted = outputs["shifted"]
    return (shifted[:, 0] - shifted[:, 1]) / (2 * STEP)


def layer_problem(outputs: Outputs) -> str | None:
    """What the rules of the exercise say is missing (None: the gradients are then compared)."""
    if float(outputs.get("parameters", 0)) < 1:
        return "MyLayer has no parameter (a Parameter assigned as an attribute)"
    if float(outputs.get("own op", 0)) < 1:
        return "MyLayer's output is not made by an op of yours (a Function with a backward)"
    if not np.any(outputs["backward"]):
        return "every gradient is 0: the layer must depend on its input and parameters"
    return None
